// Command regedge compiles a registry routing policy into edge configs.
package main

import (
	"os"

	"github.com/regedge/regedge/compiler/internal/cli"
)

func main() { os.Exit(cli.Main()) }
