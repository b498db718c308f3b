package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/rapportcrm/rapport/internal/identity/dedupe"
	"github.com/rapportcrm/rapport/internal/importer"
)

// runAnalyzeDuplicates reads a customer CSV, maps its columns by their
// headers and prints the pairs of rows that are probably the same person.
func runAnalyzeDuplicates(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analyze duplicates", stderr)
	var (
		input     = fs.String("input", "", "customer CSV with a header row / 客户 CSV 文件（含表头）")
		idCol     = fs.String("id-col", "id", "customer id column / 客户 ID 列")
		format    = fs.String("format", "csv", "output format: csv (id_a,id_b,score) or json (with evidence) / 输出格式：csv（id_a,id_b,score）或 json（含依据）")
		threshold = fs.Float64("threshold", dedupe.DefaultThreshold, "lowest score to propose a pair, 0–1 / 提出候选重复对的最低分数，0–1")
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *input == "" {
		return errors.New("analyze duplicates: --input is required / 必须提供 --input")
	}
	if *format != "csv" && *format != "json" {
		return fmt.Errorf("analyze duplicates: unsupported --format %q, use csv or json / 不支持的输出格式 %q，请用 csv 或 json", *format, *format)
	}
	if *threshold <= 0 || *threshold > 1 {
		return fmt.Errorf("analyze duplicates: --threshold %v must be in (0, 1] / 阈值 %v 必须在 (0, 1] 之间", *threshold, *threshold)
	}

	f, err := os.Open(*input)
	if err != nil {
		return fmt.Errorf("analyze duplicates: open input / 无法打开输入文件: %w", err)
	}
	defer f.Close()
	recs, rep, err := dedupe.ReadCSV(f, dedupe.CSVOptions{IDCol: *idCol, FieldOf: func(h string) (string, bool) {
		field, ok := importer.GuessField(h)
		return string(field), ok
	}})
	if err != nil {
		return fmt.Errorf("analyze duplicates: %w / 读取客户文件失败", err)
	}
	res, err := dedupe.Find(context.Background(), recs, dedupe.Options{Threshold: *threshold})
	if err != nil {
		return fmt.Errorf("analyze duplicates: %w / 查找重复客户失败", err)
	}
	fmt.Fprintf(stderr, "analyze duplicates: %d rows, %d used, %d rejected; %d candidate pairs compared, %d pairs proposed\n",
		rep.Rows, rep.Accepted, rep.Rejected, res.Stats.CandidatePairs, len(res.Pairs))
	for _, r := range rep.First {
		fmt.Fprintf(stderr, "  rejected line %d / 拒绝第 %d 行: %s\n", r.Line, r.Line, r.Reason)
	}
	fmt.Fprintf(stderr, "查找重复客户：共 %d 行，使用 %d 行，拒绝 %d 行；比较 %d 对候选，提出 %d 对疑似重复\n",
		rep.Rows, rep.Accepted, rep.Rejected, res.Stats.CandidatePairs, len(res.Pairs))
	if len(rep.Unmapped) > 0 {
		fmt.Fprintf(stderr, "unrecognised columns, ignored / 未识别的列（已忽略）: %q\n", rep.Unmapped)
	}

	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Input dedupe.ReadReport `json:"input"`
			dedupe.Result
		}{rep, res})
	}
	w := csv.NewWriter(stdout)
	if err := w.Write([]string{"id_a", "id_b", "score"}); err != nil {
		return fmt.Errorf("analyze duplicates: write output / 写出结果失败: %w", err)
	}
	for _, p := range res.Pairs {
		if err := w.Write([]string{p.IDA, p.IDB, strconv.FormatFloat(p.Score, 'f', 4, 64)}); err != nil {
			return fmt.Errorf("analyze duplicates: write output / 写出结果失败: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("analyze duplicates: write output / 写出结果失败: %w", err)
	}
	return nil
}
