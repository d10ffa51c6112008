package report

// pageHTML is the page template. Everything the page needs is in it: the
// CSS below and the SVG of the plots; no script, no external resource.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="recs report">
<title>{{.Title}}</title>
<style>
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--card:#fff;
--ok:#047857;--ok-bg:#ecfdf5;--info:#1d4ed8;--info-bg:#eff6ff;--warn:#b45309;--warn-bg:#fffbeb;--bad:#b91c1c;--bad-bg:#fef2f2}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Liberation Sans",Arial,sans-serif}
header{background:#111827;color:#f9fafb;padding:28px 0 24px}
.wrap{max-width:1180px;margin:0 auto;padding:0 28px}
h1{margin:0;font-size:22px;font-weight:600;letter-spacing:-.01em}
.sub{margin-top:4px;color:#9ca3af;font-size:13px;word-break:break-all}
.pill{display:inline-block;margin-left:10px;padding:2px 10px;border-radius:999px;font-size:12px;font-weight:600;vertical-align:3px;text-transform:uppercase;letter-spacing:.04em}
.pill.ok{background:#065f46;color:#d1fae5}.pill.bad{background:#991b1b;color:#fee2e2}
main{padding:24px 0 40px}
section{margin-top:28px}
h2{font-size:17px;font-weight:600;margin:0 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:14px;font-weight:600;margin:0 0 6px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(128px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums;margin-top:2px;overflow-wrap:anywhere}
.card.ok .v,.card.bad .v{font-size:19px}
.card .n{color:var(--muted);font-size:12px}
.card.ok .v{color:var(--ok)}.card.bad .v{color:var(--bad)}
.hints{display:grid;gap:8px}
.hint{background:var(--card);border:1px solid var(--line);border-left:4px solid;border-radius:6px;padding:9px 14px}
.hint .t{font-weight:600}
.hint .k{font-size:11px;font-weight:700;letter-spacing:.06em;margin-right:8px}
.hint .r{color:var(--muted);font-size:12px;margin-top:2px}
.hint.ok{border-left-color:var(--ok)}.hint.ok .k{color:var(--ok)}
.hint.info{border-left-color:var(--info)}.hint.info .k{color:var(--info)}
.hint.warn{border-left-color:var(--warn);background:var(--warn-bg)}.hint.warn .k{color:var(--warn)}
.hint.bad{border-left-color:var(--bad);background:var(--bad-bg)}.hint.bad .k{color:var(--bad)}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 14px 10px}
figure svg{display:block;width:100%;height:auto}
figcaption{color:var(--muted);font-size:12.5px;margin-top:6px}
.legend{font-size:12.5px;margin:-2px 0 4px}
.legend span{margin-right:16px;white-space:nowrap}
.sw{display:inline-block;width:18px;height:0;border-top:3px solid;vertical-align:middle;margin-right:6px}
.sw.dash{border-top-style:dashed;border-top-width:2px}
.sw.dot{width:0;height:0;border-width:4px;border-style:solid;border-radius:50%;opacity:.85}
.sw.ring{width:11px;height:11px;border-width:2px;border-style:solid;border-radius:50%}
.c0{border-color:#0072b2}.c1{border-color:#d55e00}.c2{border-color:#009e73}.c3{border-color:#cc79a7}.c4{border-color:#6b7280}
.stack{display:grid;gap:16px;align-content:start}
.kvcols{columns:2 320px;column-gap:32px}
.kvcols h3{break-after:avoid}
.kvrow{display:grid;grid-template-columns:45% 1fr;padding:5px 0;border-bottom:1px solid var(--line);break-inside:avoid;font-size:13.5px}
.kvrow .key{color:var(--muted)}
.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:5px 10px 5px 0;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;padding-right:12px}
td.key{color:var(--muted);width:45%}
td.def{color:var(--muted);font-size:12.5px}
td.mono,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px;word-break:break-all}
.bar{height:8px;border-radius:4px;background:#93c5fd;min-width:1px}
.bar.rss{background:#fcd34d}
td.barcell{width:22%}
details{margin-top:12px}
summary{cursor:pointer;color:var(--info);font-weight:600}
.empty{color:var(--muted);font-style:italic}
.intro{margin:0 0 12px;max-width:900px}
.note{color:var(--muted);font-size:12.5px;margin:8px 0 0}
tr.best td{font-weight:600}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding:16px 0 28px}
@media print{body{background:#fff}header{background:#fff;color:#000;border-bottom:2px solid #000}.sub{color:#444}figure,.card,.panel,.hint{break-inside:avoid}}
</style>
</head>
<body>
<header><div class="wrap">
<h1>{{.Title}}{{with .Status}}<span class="pill {{if eq . "ok"}}ok{{else}}bad{{end}}">{{.}}</span>{{end}}</h1>
{{with .Subtitle}}<div class="sub">{{.}}</div>{{end}}
</div></header>
<main class="wrap">
{{- if .Cards}}
<div class="cards">
{{- range .Cards}}
<div class="card {{.Class}}"><div class="l">{{.Label}}</div><div class="v">{{.Value}}</div>{{with .Note}}<div class="n">{{.}}</div>{{end}}</div>
{{- end}}
</div>
{{- end}}

{{- if not .TuneOnly}}
<section id="health">
<h2>Health</h2>
{{- if .Hints}}
<div class="hints">
{{- range .Hints}}
{{template "hint" .}}
{{- end}}
</div>
{{- else}}
<p class="empty">Nothing to check: the run directory holds neither training history, metrics nor lists.</p>
{{- end}}
</section>
{{- end}}

{{- if or .Training .IterRows}}
<section id="training">
<h2>Training</h2>
<div class="grid">
{{- range .Training}}
{{template "fig" .}}
{{- end}}
</div>
{{- if .IterRows}}
<details><summary>Per-iteration values</summary>
<div class="panel"><table>
{{template "head" .IterHead}}
{{- range .IterRows}}
<tr>{{template "cells" .}}</tr>
{{- end}}
</table></div>
</details>
{{- end}}
</section>
{{- end}}

{{- if or .Ranking .MetricRows}}
<section id="metrics">
<h2>Evaluation</h2>
<div class="grid">
{{- range .Ranking}}
{{template "fig" .}}
{{- end}}
<div class="stack">
{{- if .MetricRows}}
<div class="panel"><h3>Metrics</h3><table>
<tr><th>metric</th><th class="num">value</th><th>better</th></tr>
{{- range .MetricRows}}
<tr><td>{{.Name}}</td><td class="num">{{.Value}}</td><td>{{.Better}}</td></tr>
{{- end}}
</table></div>
{{- end}}
{{- if .Evaluated}}
<div class="panel"><h3>Evaluated on</h3><table>
{{- template "kv" .Evaluated}}
</table></div>
{{- end}}
</div>
</div>
{{- if .MetricRows}}
<details><summary>Metric definitions</summary>
<div class="panel"><table>
{{- range .MetricRows}}{{if .Def}}
<tr><td>{{.Name}}</td><td class="def">{{.Def}}</td></tr>
{{- end}}{{end}}
</table></div>
</details>
{{- end}}
</section>
{{- end}}

{{- if .DataFigs}}
<section id="data">
<h2>Training data</h2>
<div class="grid">
{{- range .DataFigs}}
{{template "fig" .}}
{{- end}}
<div class="panel"><h3>Summary</h3><table>
{{- template "kv" .DataRows}}
</table></div>
</div>
</section>
{{- end}}

{{- if .PopFigs}}
<section id="popularity">
<h2>Item popularity and recommendations</h2>
<div class="grid">
{{- range .PopFigs}}
{{template "fig" .}}
{{- end}}
</div>
<div class="panel" style="margin-top:16px"><table>
{{- template "kv" .PopRows}}
</table></div>
</section>
{{- end}}

{{- with .Tune}}
<section id="tune">
<h2>Hyperparameter search</h2>
{{- with .Intro}}
<p class="intro">{{.}}</p>
{{- end}}
{{- if .Notes}}
<div class="hints" style="margin-bottom:16px">
{{- range .Notes}}
{{template "hint" .}}
{{- end}}
</div>
{{- end}}
{{- if .Figs}}
<div class="grid">
{{- range .Figs}}
{{template "fig" .}}
{{- end}}
</div>
{{- end}}
{{- if .Rows}}
<div class="panel" style="margin-top:16px"><h3>Leaderboard</h3><table class="lb">
{{template "head" .Head}}
{{- range $j, $r := .Rows}}
<tr{{if not $j}} class="best"{{end}}>{{template "cells" $r}}</tr>
{{- end}}
</table>
<p class="note">{{.Caption}}</p></div>
{{- end}}
<div class="grid" style="margin-top:16px">
<div class="panel"><h3>Search</h3><table>
{{- template "kv" .Summary}}
</table></div>
{{- if .Winner}}
<div class="panel"><h3>Winning configuration</h3><table>
{{- template "kvmono" .Winner}}
</table>
<p class="note">{{.WinNote}}</p></div>
{{- end}}
</div>
{{- if .AllRows}}
<details><summary>All {{len .AllRows}} trials</summary>
<div class="panel"><table>
{{template "head" .AllHead}}
{{- range .AllRows}}
<tr>{{template "cells" .}}</tr>
{{- end}}
</table></div>
</details>
{{- end}}
</section>
{{- end}}

{{- if or .Params .Model}}
<section id="parameters">
<h2>Model</h2>
{{- /* One panel whose rows flow into two columns: the factors (a few
rows) and the parameters (many) side by side would leave one column
mostly empty. */}}
<div class="panel kvcols">
{{- if .Model}}
<h3>Factors</h3>
{{- range .Model}}
<div class="kvrow"><span class="key">{{.Key}}</span><span>{{.Value}}</span></div>
{{- end}}
{{- end}}
{{- if .Params}}
<h3>Parameters</h3>
{{- range .Params}}
<div class="kvrow"><span class="key">{{.Key}}</span><span class="mono">{{.Value}}</span></div>
{{- end}}
{{- end}}
</div>
</section>
{{- end}}

{{- if .Run}}
<section id="run">
<h2>Run</h2>
<div class="grid">
<div class="panel"><h3>Outcome</h3><table>
{{- template "kv" .Run}}
{{- range .Gate}}
<tr><td class="key">gate: {{.Key}}</td><td>{{.Value}}</td></tr>
{{- end}}
{{- range .Published}}
<tr><td class="key">published: {{.Key}}</td><td class="mono">{{.Value}}</td></tr>
{{- end}}
</table></div>
{{- if .Split}}
<div class="panel"><h3>Split</h3><table>
{{- template "kv" .Split}}
</table></div>
{{- end}}
</div>
{{- if .Steps}}
<div class="panel" style="margin-top:16px"><h3>Steps</h3><table>
<tr><th>step</th><th class="num">wall time</th><th></th><th class="num">peak memory</th><th></th></tr>
{{- range .Steps}}
<tr><td>{{.Name}}</td><td class="num">{{.Wall}}</td><td class="barcell"><div class="bar" style="width:{{.WallPct}}%"></div></td><td class="num">{{.RSS}}</td><td class="barcell"><div class="bar rss" style="width:{{.RSSPct}}%"></div></td></tr>
{{- end}}
<tr><td><b>total</b></td><td class="num"><b>{{.StepTotal}}</b></td><td></td><td></td><td></td></tr>
</table></div>
{{- end}}
{{- if .Inputs}}
<div class="panel" style="margin-top:16px"><h3>Inputs</h3><table>
<tr><th>source</th><th class="num">rows</th><th>sha-256</th></tr>
{{- range .Inputs}}
<tr><td class="mono">{{index . 0}}</td><td class="num">{{index . 1}}</td><td class="mono">{{index . 2}}</td></tr>
{{- end}}
</table></div>
{{- end}}
</section>
{{- end}}
</main>
<footer><div class="wrap">{{.Footer}}</div></footer>
</body>
</html>
{{- define "fig"}}
<figure><h3>{{.Title}}</h3>
{{- if .Legend}}<div class="legend">{{range .Legend}}<span><i class="sw c{{.Color}}{{if .Dashed}} dash{{end}}{{with .Shape}} {{.}}{{end}}"></i>{{.Name}}</span>{{end}}</div>{{end}}
{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>
{{- end}}
{{- /* Rows of a key-value table ([]kv), plain or with monospaced values. */}}
{{- define "kv"}}
{{- range .}}
<tr><td class="key">{{.Key}}</td><td>{{.Value}}</td></tr>
{{- end}}
{{- end}}
{{- define "kvmono"}}
{{- range .}}
<tr><td class="key">{{.Key}}</td><td class="mono">{{.Value}}</td></tr>
{{- end}}
{{- end}}
{{- /* The header row ([]string) and the cells of one row ([]string) of a
table whose columns after the first are numbers. */}}
{{- define "head"}}<tr>{{range $i, $h := .}}<th{{if $i}} class="num"{{end}}>{{$h}}</th>{{end}}</tr>{{end}}
{{- define "cells"}}{{range $i, $c := .}}<td{{if $i}} class="num"{{end}}>{{$c}}</td>{{end}}{{end}}
{{- /* A health or search note (hint). */}}
{{- define "hint"}}<div class="hint {{.Level}}"><span class="k">{{label .Level}}</span><span class="t">{{.Title}}</span><div>{{.Text}}</div><div class="r">Threshold: {{.Rule}}</div></div>{{end}}
`
