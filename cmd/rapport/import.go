package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/importer"
	"github.com/rapportcrm/rapport/internal/store"
)

const importUsage = `usage: rapport import customers|orders|interactions FILE [--data DIR | --db URL] [--dry-run]
       [--map "header=field,…"] [--source NAME] [--rejects FILE.csv]
用法: rapport import customers|orders|interactions 文件 [--data 目录 | --db 连接串] [--dry-run]
       [--map "列名=字段,…"] [--source 来源] [--rejects 拒绝行.csv]
`

// cliActor is who the audit log shows for imports run from the command line.
var cliActor = store.Actor{ID: "cli", Kind: "system"}

// runImport imports a CSV or XLSX file and prints one summary line on
// stdout; progress, the mapping and rejected rows go to stderr. It fails
// only when nothing could be imported.
func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	var db dbFlags
	db.register(fs, "./rapport-data")
	dryRun := fs.Bool("dry-run", false, "decide every row and write nothing / 试运行：逐行判断但不写入")
	mapping := fs.String("map", "", `column overrides "header=field,…" (field, attributes.KEY, or - to ignore) / 列映射覆盖，如 "手机号=phone,备注=-"`)
	source := fs.String("source", importer.DefaultSource, "source system of customer and order ids / 客户编号和订单号的来源系统")
	rejects := fs.String("rejects", "", "write rejected rows with an error column to this CSV / 将被拒绝的行（含错误原因）写入此 CSV")
	region := fs.String("region", customer.DefaultRegion, "default phone region / 默认电话区域 (RAPPORT_REGION)")
	quiet := fs.Bool("quiet", false, "no progress bar / 不显示进度条")
	fs.Usage = func() {
		fmt.Fprint(stderr, importUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return errors.New("import: give the kind and the file / 请指定导入类型和文件")
	}
	kind, err := importer.ParseKind(pos[0])
	if err != nil {
		return err
	}
	overrides, err := importer.ParseMap(*mapping)
	if err != nil {
		return err
	}
	path := pos[1]
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: open %s / 无法打开文件: %w", path, err)
	}
	defer f.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	fields, err := s.FieldMap(ctx)
	if err != nil {
		return err
	}
	t, err := importer.Open(f, filepath.Base(path))
	if err != nil {
		return err
	}
	defer t.Close()
	fmt.Fprintf(stderr, "%s: %s, %s, delimiter %q, about %d rows / 约 %d 行\n", filepath.Base(path), t.Format, t.Encoding, t.Delimiter, t.Estimate, t.Estimate)

	opt := importer.Options{Kind: kind, Source: *source, DryRun: *dryRun, Map: overrides, Actor: cliActor,
		Rules: customer.Rules{Region: *region, Fields: fields}}
	m, err := importer.Plan(t, kind, opt.Rules, overrides)
	for _, c := range m.Used() {
		fmt.Fprintf(stderr, "  %s → %s\n", c.Column, c.Field)
	}
	for _, c := range m.Ignored {
		fmt.Fprintf(stderr, "  %s → ignored / 忽略: %s\n", c.Column, c.Reason)
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}

	var rw *importer.RejectsWriter
	if *rejects != "" {
		out, err := os.Create(*rejects)
		if err != nil {
			return fmt.Errorf("import: create %s: %w", *rejects, err)
		}
		defer out.Close()
		if rw, err = importer.NewRejectsWriter(out, t.Header); err != nil {
			return fmt.Errorf("import: write %s: %w", *rejects, err)
		}
	}
	shown := 0
	var writeErr error
	opt.Reject = func(r store.ImportReject) {
		if shown < 20 {
			fmt.Fprintf(stderr, "line %d rejected / 第 %d 行被拒绝: %s\n", r.Line, r.Line, r.Reason)
			shown++
		}
		if rw != nil && writeErr == nil {
			writeErr = rw.Write(r)
		}
	}
	if !*quiet {
		bar := progressbar.NewOptions64(max(t.Estimate, 1),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("importing / 导入中"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
		)
		opt.Progress = func(done, total int64) {
			if total > bar.GetMax64() {
				bar.ChangeMax64(total)
			}
			bar.Set64(done)
		}
		defer bar.Finish()
	}
	if !*dryRun {
		opt.ImportID = customer.NewID()
		if err := s.CreateImport(ctx, store.Import{ID: opt.ImportID, Kind: string(kind), FileName: filepath.Base(path),
			Source: *source, Total: t.Estimate, CreatedBy: cliActor.ID}); err != nil {
			return err
		}
	}
	// An import allocates briefly and a lot; collecting less often costs
	// memory the command gives back when it exits.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	rep, runErr := importer.Run(ctx, s, t, opt)
	if opt.ImportID != "" {
		status, msg := store.ImportDone, ""
		if runErr != nil {
			status, msg = store.ImportFailed, runErr.Error()
		}
		if err := s.FinishImport(context.WithoutCancel(ctx), opt.ImportID, status, msg); err != nil && runErr == nil {
			runErr = err
		}
	}
	if rw != nil {
		if err := rw.Flush(); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	if runErr != nil {
		return fmt.Errorf("import: %w", runErr)
	}
	if writeErr != nil {
		return fmt.Errorf("import: write %s: %w", *rejects, writeErr)
	}
	fmt.Fprintf(stderr, "%d rows in %.1fs (%.0f rows/s) / 共 %d 行\n", rep.Rows, rep.Seconds, float64(rep.Rows)/max(rep.Seconds, 1e-9), rep.Rows)
	fmt.Fprintln(stdout, rep.Summary())
	if rep.Imported+rep.Merged == 0 {
		return errors.New("import: nothing could be imported / 没有任何行可以导入")
	}
	return nil
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments (`import customers FILE --data DIR`), and
// returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
