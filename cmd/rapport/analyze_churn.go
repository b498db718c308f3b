package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rapportcrm/rapport/internal/analytics/churn"
)

// runAnalyzeChurn fits a churn-risk model to a customer CSV and prints the
// held-out quality, coefficients, calibration, column report and the
// riskiest held-out customers with their reasons as JSON.
func runAnalyzeChurn(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analyze churn", stderr)
	var (
		path     = fs.String("input", "", "customer CSV with a header row / 客户 CSV 文件（含表头）")
		labelCol = fs.String("label-col", "", "churn label column / 流失标签列")
		positive = fs.String("positive", "", "label value meaning churned; default reads 1/0, true/false, yes/no, 是/否, churned/retained / 表示已流失的标签值；默认识别 1/0、true/false、yes/no、是/否、churned/retained")
		idCol    = fs.String("id-col", "", "customer id column (not a feature) / 客户 ID 列（不作为特征）")
		testFrac = fs.Float64("test-fraction", churn.DefaultTestFraction, "held-out share of each label / 每类标签的测试集比例")
		seed     = fs.Uint64("seed", 1, "seed of the train/test split / 训练/测试划分的随机种子")
		lambda   = fs.Float64("lambda", churn.DefaultLambda, "L2 penalty on standardized coefficients, 0 for none / 标准化系数的 L2 惩罚，0 表示不惩罚")
		levels   = fs.Int("max-levels", churn.DefaultMaxLevels, "one-hot levels kept per categorical column (rest are \"other\") / 每个分类列保留的取值数（其余归为 other）")
		topRisk  = fs.Int("top", churn.DefaultTopRisk, "riskiest test customers listed / 列出的最高风险测试客户数")
		reasons  = fs.Int("reasons", churn.DefaultTopK, "reasons per listed customer / 每位客户列出的风险原因数")
		format   = fs.String("format", "json", "output format: json / 输出格式：json")
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *labelCol == "" {
		return errors.New("analyze churn: --input and --label-col are required / 必须提供 --input 和 --label-col")
	}
	if *format != "json" {
		return fmt.Errorf("analyze churn: unsupported --format %q, only json / 不支持的输出格式 %q，仅支持 json", *format, *format)
	}
	if *testFrac <= 0 || *testFrac >= 1 {
		return fmt.Errorf("analyze churn: --test-fraction %v must be between 0 and 1 / 测试集比例必须在 0 和 1 之间", *testFrac)
	}
	if *lambda < 0 || *levels < 1 || *topRisk < 0 || *reasons < 0 {
		return errors.New("analyze churn: --lambda must be ≥ 0, --max-levels ≥ 1, --top and --reasons ≥ 0 / 参数取值无效")
	}
	f, err := os.Open(*path)
	if err != nil {
		return fmt.Errorf("analyze churn: open input / 无法打开输入文件: %w", err)
	}
	defer f.Close()
	tab, err := churn.ReadCSV(f, churn.ReadOptions{LabelCol: *labelCol, Positive: *positive, IDCol: *idCol})
	if err != nil {
		return fmt.Errorf("analyze churn: %w / 读取客户表失败", err)
	}
	opts := churn.Options{
		TestFraction: *testFrac,
		Seed:         *seed,
		Encode:       churn.EncodeOptions{MaxLevels: *levels},
		Fit:          churn.FitOptions{Lambda: *lambda},
		TopK:         *reasons,
		TopRisk:      *topRisk,
	}
	if *lambda == 0 {
		opts.Fit.Lambda = -1 // the package reads zero as "default"
	}
	// Zero means "default" in the package; the flags mean "none".
	if *topRisk == 0 {
		opts.TopRisk = -1
	}
	if *reasons == 0 {
		opts.TopK = -1
	}
	rep, _, err := churn.Analyze(tab, opts)
	if err != nil {
		return fmt.Errorf("analyze churn: %w / 流失模型分析失败", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
