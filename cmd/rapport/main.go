// Command rapport is the Rapport CRM and customer data platform in one binary.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rapport:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command / 缺少命令")
	}
	switch args[0] {
	case "analyze":
		return runAnalyze(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q / 未知命令 %q", args[0], args[0])
}

const usage = `rapport — customer-centric CRM / 以客户为中心的 CRM

Commands / 命令:
  analyze    file-based analyses (clv, churn, experiment, duplicates) / 基于文件的分析
`
