package main

import (
	"fmt"
	"io"
)

// analyzeCommands are the file-based analyses: they read a CSV and print a
// result without a server, so analysts can use them on exports.
var analyzeCommands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"clv":        runAnalyzeCLV,
	"churn":      runAnalyzeChurn,
	"experiment": runAnalyzeExperiment,
	"duplicates": runAnalyzeDuplicates,
}

func runAnalyze(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: rapport analyze clv|churn|experiment|duplicates [flags]\n用法: rapport analyze clv|churn|experiment|duplicates [参数]")
	}
	cmd, ok := analyzeCommands[args[0]]
	if !ok {
		return fmt.Errorf("unknown analysis %q / 未知的分析 %q", args[0], args[0])
	}
	return cmd(args[1:], stdout, stderr)
}
