package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// DefaultSandboxAddr is where `keel sandbox` listens by default.
const DefaultSandboxAddr = "127.0.0.1:8090"

// runSandbox runs the fake Unipile server alone until interrupted.
func runSandbox(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", DefaultSandboxAddr, "listen address")
	accounts := fs.Int("accounts", 3, "demo accounts to create")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	srv := fake.New(fake.Options{})
	for i := 0; i < *accounts; i++ {
		srv.AddAccount(fake.AccountSpec{Name: fmt.Sprintf("Demo account %d", i+1)})
	}
	if err := srv.Start(*addr); err != nil {
		return fmt.Errorf("starting the fake Unipile server on %s: %w", *addr, err)
	}
	defer srv.Close()
	fmt.Fprintf(env.Stdout, "fake Unipile listening on %s (X-API-KEY %s); no real LinkedIn traffic\n", srv.URL(), srv.APIKey())
	<-ctx.Done()
	return nil
}
