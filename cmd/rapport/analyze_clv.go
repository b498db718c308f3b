package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/clv"
)

// runAnalyzeCLV fits BG/NBD, Pareto/NBD and Gamma-Gamma to a transactions
// CSV and prints the parameters, fit diagnostics and a holdout check as JSON.
func runAnalyzeCLV(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analyze clv", stderr)
	var (
		path      = fs.String("transactions", "", "transactions CSV with a header row / 交易 CSV 文件（含表头）")
		custCol   = fs.String("customer-col", "customer_id", "customer id column / 客户 ID 列")
		dateCol   = fs.String("date-col", "date", "transaction date column / 交易日期列")
		amountCol = fs.String("amount-col", "amount", "transaction amount column / 交易金额列")
		dateFmt   = fs.String("date-format", "", "date format, Go layout (20060102) or strftime (%Y%m%d); empty tries ISO dates / 日期格式，Go 布局或 strftime；留空则尝试 ISO 日期")
		calEnd    = fs.String("calibration-end", "", "last day of the calibration period, YYYY-MM-DD, inclusive / 校准期最后一天（含），YYYY-MM-DD")
		obsEnd    = fs.String("observation-end", "", "last day of the holdout period, YYYY-MM-DD; default the latest transaction / 验证期最后一天，默认为最后一笔交易日期")
		unit      = fs.String("unit", "week", "time unit: day, week or month / 时间单位：day、week 或 month")
		format    = fs.String("format", "json", "output format: json / 输出格式：json")
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *calEnd == "" {
		return errors.New("analyze clv: --transactions and --calibration-end are required / 必须提供 --transactions 和 --calibration-end")
	}
	if *format != "json" {
		return fmt.Errorf("analyze clv: unsupported --format %q, only json / 不支持的输出格式 %q，仅支持 json", *format, *format)
	}
	u, err := clv.ParseUnit(*unit)
	if err != nil {
		return fmt.Errorf("analyze clv: %w / 时间单位无效", err)
	}
	opts := clv.SummaryOptions{Unit: u}
	if opts.CalibrationEnd, err = time.Parse(time.DateOnly, *calEnd); err != nil {
		return fmt.Errorf("analyze clv: --calibration-end %q is not YYYY-MM-DD / 校准期结束日期格式应为 YYYY-MM-DD", *calEnd)
	}
	if *obsEnd != "" {
		if opts.ObservationEnd, err = time.Parse(time.DateOnly, *obsEnd); err != nil {
			return fmt.Errorf("analyze clv: --observation-end %q is not YYYY-MM-DD / 验证期结束日期格式应为 YYYY-MM-DD", *obsEnd)
		}
	}

	f, err := os.Open(*path)
	if err != nil {
		return fmt.Errorf("analyze clv: open transactions / 无法打开交易文件: %w", err)
	}
	defer f.Close()
	txs, read, err := clv.ReadTransactionsCSV(f, clv.CSVOptions{
		CustomerCol: *custCol, DateCol: *dateCol, AmountCol: *amountCol, DateFormat: *dateFmt,
	})
	if err != nil {
		return fmt.Errorf("analyze clv: %w / 读取交易失败", err)
	}
	rep, err := clv.Analyze(txs, opts)
	if err != nil {
		return fmt.Errorf("analyze clv: %w / CLV 分析失败", err)
	}
	rep.SetInput(read)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
