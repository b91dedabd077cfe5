package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/hearsay-mesh/hearsay/agent"
)

func main() {
	dataDir := flag.String("data-dir", envOr("HEARSAY_DATA_DIR", agent.DefaultDataDir()), "the local agent's data directory (its RPC address and token are read there)")
	listen := flag.String("listen", "127.0.0.1:8700", "where the editor serves the page (host:port)")
	key := flag.String("key", "notes", "the text key the page edits (a ?key= in the page's URL overrides it)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*dataDir, *listen, *key, log); err != nil {
		fmt.Fprintln(os.Stderr, "editor:", err)
		os.Exit(1)
	}
}

func run(dataDir, listen, key string, log *slog.Logger) error {
	h, err := newHandler(Config{DataDir: dataDir, Key: key}, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("editor: open http://%s (key %q, agent in %s)\n", ln.Addr(), key, dataDir)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
