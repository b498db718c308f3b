package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rapportcrm/rapport/internal/ingest"
	"github.com/rapportcrm/rapport/internal/store"
)

const sourceUsage = `usage: rapport source create --name NAME | list | revoke --id ID  [--data DIR | --db URL]
用法: rapport source create --name 名称 | list | revoke --id 编号  [--data 目录 | --db 连接串]`

// runSource manages tracking sources and their write keys.
func runSource(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", sourceUsage)
	}
	fs := newFlags("source "+args[0], stderr)
	var db dbFlags
	db.register(fs, "./rapport-data")
	name := fs.String("name", "", "what sends with this key: web, ios, backend… / 来源名称")
	id := fs.String("id", "", "source id (revoke) / 来源编号（吊销时）")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	open := func() (*store.Store, error) { return db.open(ctx) }
	switch args[0] {
	case "create":
		s, err := open()
		if err != nil {
			return err
		}
		defer s.Close()
		src, key, err := ingest.CreateSource(ctx, s, store.Actor{ID: "cli", Kind: "system"}, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "source %q (%s) created; its write key is shown only once / 写入密钥只显示这一次:\n", src.Name, src.ID)
		fmt.Fprintln(stdout, key)
		return nil
	case "list":
		s, err := open()
		if err != nil {
			return err
		}
		defer s.Close()
		list, err := s.Sources(ctx)
		if err != nil {
			return err
		}
		for _, src := range list {
			state := "active / 有效"
			if src.RevokedAt != nil {
				state = "revoked / 已吊销 " + src.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s…\t%s\n", src.ID, src.Name, src.Prefix, state)
		}
		return nil
	case "revoke":
		if *id == "" {
			return fmt.Errorf("--id is required / 需要 --id")
		}
		s, err := open()
		if err != nil {
			return err
		}
		defer s.Close()
		src, err := s.RevokeSource(ctx, store.Actor{ID: "cli", Kind: "system"}, *id, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "source %q revoked / 已吊销\n", src.Name)
		return nil
	}
	return fmt.Errorf("unknown source command %q / 未知命令\n%s", args[0], sourceUsage)
}
