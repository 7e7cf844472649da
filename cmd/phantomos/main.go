// Command phantomos runs PhantomOS: the web application, the JSON API, the
// background jobs and the administration commands. See "phantomos help".
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // publishers' time zones work on machines without zoneinfo

	"github.com/phantomos/phantomos/internal/run"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, run.Options{Stdin: os.Stdin})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "phantomos:", err)
		if errors.Is(err, run.ErrUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
