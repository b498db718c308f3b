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
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "demo":
		return runDemo(args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(args[1:], stdout, stderr)
	case "user":
		return runUser(args[1:], os.Stdin, stdout, stderr)
	case "apikey":
		return runAPIKey(args[1:], stdout, stderr)
	case "version", "--version":
		return runVersion(stdout)
	case "import":
		return runImport(args[1:], stdout, stderr)
	case "analyze":
		return runAnalyze(args[1:], stdout, stderr)
	case "analytics":
		return runAnalytics(args[1:], stdout, stderr)
	case "source":
		return runSource(args[1:], stdout, stderr)
	case "recompute":
		return runRecompute(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q / 未知命令 %q", args[0], args[0])
}

const usage = `rapport — customer-centric CRM / 以客户为中心的 CRM

Commands / 命令:
  demo       open a working instance with demo data / 用演示数据启动一个实例
  serve      run the server (--data DIR or --db postgres://…, --addr HOST:PORT) / 运行服务
  migrate    apply database migrations / 执行数据库迁移
  user       user create --email E --role R [--password-stdin] / 创建用户
  apikey     apikey create --name N --role R / 创建 API 密钥
  import     import customers|orders|interactions FILE (CSV/XLSX, GBK too) / 导入数据
  source     source create|list|revoke: write keys for the tracking API / 数据源写入密钥
  recompute  rebuild every customer's stats from stored orders and events / 重算客户统计
  analytics  analytics refit: refit value, CLV and churn models now / 重新拟合分析模型
  analyze    file-based analyses (clv, churn, experiment, duplicates) / 基于文件的分析
  version    print the version / 显示版本

Every flag can also be set as RAPPORT_<FLAG>, e.g. RAPPORT_DATA, RAPPORT_DB, RAPPORT_ADDR.
每个参数也可用环境变量 RAPPORT_<参数名> 设置。
`
