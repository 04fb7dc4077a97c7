// Package funcsize finds the long functions of the module's non-test Go
// code, for its maintainers: Long lists every function longer than a
// number of lines, and the package's test holds the module to at most 80
// lines a function, but for the ones it names with the reason each is
// still long.
package funcsize

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
)

// Func is one function: where it is and how many lines it spans, from its
// doc-less declaration to its closing brace.
type Func struct {
	File  string // by slash path from the root
	Name  string // Name, or Type.Name for a method
	Lines int
}

// String is "file Name".
func (f Func) String() string { return f.File + " " + f.Name }

// Long returns every function longer than max lines in the non-test Go
// files under root, skipping hidden folders and node_modules.
func Long(root string, max int) ([]Func, error) {
	var out []Func
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("funcsize: %w", err)
		}
		rel, _ := filepath.Rel(root, p)
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
			if n > max {
				out = append(out, Func{File: filepath.ToSlash(rel), Name: funcName(fd), Lines: n})
			}
		}
		return nil
	})
	return out, err
}

// funcName is a function's name, with its receiver's type for a method.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}
