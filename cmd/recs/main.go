// Command recs trains, evaluates and publishes ALS recommendations.
package main

import (
	"os"

	"github.com/recs-dev/recs/cli"
)

func main() { os.Exit(cli.Main()) }
