package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/rapportcrm/rapport/internal/api"
	"github.com/rapportcrm/rapport/internal/auth"
)

func runMigrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	var db dbFlags
	db.register(fs, "./rapport-data")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, "schema up to date on %s / 数据库结构已是最新\n", s.Dialect())
	return nil
}

func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: rapport user create --email E --role R [--password-stdin]\n用法: rapport user create --email 邮箱 --role 角色 [--password-stdin]")
	}
	fs := newFlags("user create", stderr)
	var db dbFlags
	db.register(fs, "./rapport-data")
	email := fs.String("email", "", "login email / 登录邮箱")
	name := fs.String("name", "", "display name / 显示名称")
	role := fs.String("role", "admin", "admin|manager|rep|analyst|viewer / 角色")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input / 从标准输入读取密码")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return err
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password, generated = auth.GeneratePassword(), true
	}
	ctx := context.Background()
	s, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := (&auth.Service{Store: s}).CreateUser(ctx, *email, *name, r, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s) / 已创建用户\n", u.Email, u.Role)
	if generated {
		fmt.Fprintf(stdout, "password / 密码: %s\n", password)
	}
	return nil
}

func runAPIKey(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: rapport apikey create --name NAME --role ROLE\n用法: rapport apikey create --name 名称 --role 角色")
	}
	fs := newFlags("apikey create", stderr)
	var db dbFlags
	db.register(fs, "./rapport-data")
	name := fs.String("name", "", "what the key is for / 密钥用途")
	role := fs.String("role", "admin", "admin|manager|rep|analyst|viewer / 角色")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	k, secret, err := (&auth.Service{Store: s}).CreateAPIKey(ctx, *name, r, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "API key %q (%s) created; it is shown only once / 密钥只显示这一次:\n", k.Name, k.Role)
	fmt.Fprintln(stdout, secret)
	return nil
}

func runVersion(stdout io.Writer) error {
	fmt.Fprintf(stdout, "rapport %s\n", api.Version)
	return nil
}
