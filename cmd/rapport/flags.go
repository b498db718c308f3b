package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rapportcrm/rapport/internal/store"
)

// newFlags makes a flag set whose usage is printed to stderr and which
// does not exit the process on a bad flag.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, then fills every flag not given on the command
// line from the environment variable RAPPORT_<NAME> (dashes become
// underscores), so `--data` can also come from RAPPORT_DATA.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		env := "RAPPORT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	return err
}

// dbFlags are the flags every command that opens the database takes.
type dbFlags struct {
	data string
	db   string
}

func (d *dbFlags) register(fs *flag.FlagSet, defaultData string) {
	fs.StringVar(&d.data, "data", defaultData, "data directory for the SQLite database / SQLite 数据目录 (RAPPORT_DATA)")
	fs.StringVar(&d.db, "db", "", "PostgreSQL URL postgres://…; SQLite when empty / PostgreSQL 连接串，留空则用 SQLite (RAPPORT_DB)")
}

func (d *dbFlags) open(ctx context.Context) (*store.Store, error) {
	return store.Open(ctx, store.Config{URL: d.db, DataDir: d.data})
}
