package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/internal/experiment"
)

// stringList is a flag that may be given more than once.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// runAnalyzeExperiment reads one row per customer (arm and outcomes) and
// prints each arm's rates, each arm's comparison with the control and the
// sample-ratio-mismatch check as JSON.
func runAnalyzeExperiment(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analyze experiment", stderr)
	var outcomes stringList
	var (
		path       = fs.String("input", "", "experiment CSV with a header row, one row per customer / 实验 CSV 文件（含表头，每行一位客户）")
		armCol     = fs.String("arm-col", "arm", "column naming each customer's arm / 客户所在实验组的列")
		control    = fs.String("control", "", "arm value of the control group / 对照组的取值")
		weights    = fs.String("weights", "", "planned split for the sample-ratio check, arm=w,...; default equal / 计划分配比例 arm=w,...，用于样本比例检查；默认各组均等")
		confidence = fs.Float64("confidence", experiment.DefaultConfidence, "confidence level of the intervals / 置信区间的置信水平")
		bootstrap  = fs.Int("bootstrap", 0, "bootstrap resamples for continuous outcomes; 0 means none / 连续指标的自助法重抽样次数，0 表示不做")
		seed       = fs.Uint64("seed", 1, "seed of the bootstrap / 自助法的随机种子")
		format     = fs.String("format", "json", "output format: json / 输出格式：json")
	)
	fs.Var(&outcomes, "outcome-col", "outcome column, repeatable; 0/1/true/false/yes/no is binary, other numbers continuous / 结果指标列，可重复；0/1/true/false/yes/no 为二元指标，其他数字为连续指标")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *control == "" || len(outcomes) == 0 {
		return errors.New("analyze experiment: --input, --control and --outcome-col are required / 必须提供 --input、--control 和 --outcome-col")
	}
	if *format != "json" {
		return fmt.Errorf("analyze experiment: unsupported --format %q, only json / 不支持的输出格式 %q，仅支持 json", *format, *format)
	}
	opt := experiment.Options{Control: *control, Confidence: *confidence, BootstrapResamples: *bootstrap, Seed: *seed}
	csvOpt := experiment.CSVOptions{ArmCol: *armCol, OutcomeCols: outcomes}
	if *weights != "" {
		arms, err := experiment.ParseWeights(*weights)
		if err != nil {
			return fmt.Errorf("analyze experiment: --weights: %w / 分配比例无效", err)
		}
		opt.Weights = arms
		for _, a := range arms {
			csvOpt.AllowedArms = append(csvOpt.AllowedArms, a.Name)
		}
	}

	f, err := os.Open(*path)
	if err != nil {
		return fmt.Errorf("analyze experiment: open input / 无法打开输入文件: %w", err)
	}
	defer f.Close()
	data, err := experiment.ReadCSV(f, csvOpt)
	if err != nil {
		return fmt.Errorf("analyze experiment: %w / 读取实验数据失败", err)
	}
	rep, err := experiment.Analyze(data, opt)
	if err != nil {
		return fmt.Errorf("analyze experiment: %w / 实验分析失败", err)
	}
	if data.Read.Rejected > 0 {
		reasons := make([]string, 0, len(data.Read.ByReason))
		for r, n := range data.Read.ByReason {
			reasons = append(reasons, fmt.Sprintf("%s: %d", r, n))
		}
		slices.Sort(reasons)
		fmt.Fprintf(stderr, "analyze experiment: %d of %d rows rejected (%s); see \"input\" in the output / 共 %d 行，%d 行被拒绝，详见输出中的 \"input\"\n",
			data.Read.Rejected, data.Read.Rows, strings.Join(reasons, ", "), data.Read.Rows, data.Read.Rejected)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
