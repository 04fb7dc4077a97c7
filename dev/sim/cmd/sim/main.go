// Command sim runs the deterministic simulator of the delivery's
// lifecycle (package dev/sim): `make sim SEEDS=N`.
package main

import (
	"os"

	"github.com/funnel-personio/funnel-personio/dev/sim"
)

func main() { os.Exit(sim.Main(os.Args[1:], os.Stdout)) }
