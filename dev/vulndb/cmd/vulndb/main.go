// Command vulndb writes the Go vulnerability database that `make lint`
// hands govulncheck, from the OSV entries of one golang.org/x/vulndb
// version (package dev/vulndb):
//
//	go run ./dev/vulndb/cmd/vulndb -module golang.org/x/vulndb@VERSION -out .tools/vulndb
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/funnel-personio/funnel-personio/dev/vulndb"
)

func main() {
	mod := flag.String("module", "", "the vulndb module at its version, golang.org/x/vulndb@v…")
	out := flag.String("out", ".tools/vulndb", "the folder to write the database into")
	flag.Parse()
	if err := run(*mod, *out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(mod, out string) error {
	dir, asOf, err := vulndb.Source(mod)
	if err != nil {
		return err
	}
	db, err := vulndb.Build(os.DirFS(dir), asOf)
	if err != nil {
		return err
	}
	if err := db.Write(out); err != nil {
		return err
	}
	fmt.Printf("vulndb: %d entries of %d modules from %s (as of %s) in %s\n",
		len(db.Vulns), len(db.Modules), mod, db.Modified.Format("2006-01-02"), out)
	return nil
}
