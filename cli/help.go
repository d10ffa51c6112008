package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() {
	cobra.AddTemplateFunc("flagUsages", flagUsages)
}

// usageTemplate is cobra's usage template with recs' flag listing and the
// exit codes appended.
func usageTemplate(root *cobra.Command) string {
	t := root.UsageTemplate()
	t = strings.ReplaceAll(t, ".LocalFlags.FlagUsages", "flagUsages .LocalFlags")
	t = strings.ReplaceAll(t, ".InheritedFlags.FlagUsages", "flagUsages .InheritedFlags")
	return t + "\n" + exitCodeHelp
}

// flagUsages lists the flags of fs like pflag's FlagUsages, with two
// differences that make the help read as people type the flags: a boolean
// flag is shown as --name (pflag v1.1 writes --name[=true|false]), and an
// empty list or map default is not shown ("(default [])" says nothing).
// pflag offers no hook for either, hence the formatter.
func flagUsages(fs *pflag.FlagSet) string {
	type line struct{ left, usage string }
	var lines []line
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		varname, usage := pflag.UnquoteUsage(f)
		isBool := f.Value.Type() == "bool"
		if varname != "" && !isBool {
			left += " " + varname
		}
		if f.NoOptDefVal != "" && !(isBool && f.NoOptDefVal == "true") {
			if f.Value.Type() == "string" {
				left += fmt.Sprintf("[=%q]", f.NoOptDefVal)
			} else {
				left += "[=" + f.NoOptDefVal + "]"
			}
		}
		switch d := f.DefValue; {
		case d == "", d == "[]", d == "map[]", isBool && d == "false",
			(d == "0" || d == "0s") && f.Value.Type() != "string":
		case f.Value.Type() == "string":
			usage += fmt.Sprintf(" (default %q)", d)
		default:
			usage += " (default " + d + ")"
		}
		if f.Deprecated != "" {
			usage += " (DEPRECATED: " + f.Deprecated + ")"
		}
		width = max(width, len(left))
		lines = append(lines, line{left, usage})
	})
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.left)
		b.WriteString(strings.Repeat(" ", width-len(l.left)+3))
		b.WriteString(strings.ReplaceAll(l.usage, "\n", "\n"+strings.Repeat(" ", width+3)))
		b.WriteByte('\n')
	}
	return b.String()
}
