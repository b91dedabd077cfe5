package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/rpc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
)

func dataDirFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name:    "data-dir",
		Usage:   "directory for the identity and state",
		Value:   agent.DefaultDataDir(),
		EnvVars: []string{"HEARSAY_DATA_DIR"},
	}
}

func agentCommand() *cli.Command {
	// Each flag can also come from the environment (HEARSAY_*) and from
	// the TOML file given with --config, in that order of precedence:
	// flag, then environment, then file.
	flags := []cli.Flag{
		&cli.StringFlag{
			Name:    "config",
			Usage:   "TOML `FILE` with flag values (keys are flag names, e.g. listen = [\"/ip4/0.0.0.0/tcp/4001\"])",
			EnvVars: []string{"HEARSAY_CONFIG"},
		},
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{
			Name:    "listen",
			Usage:   "multiaddr to listen on (repeatable)",
			Value:   cli.NewStringSlice(agent.DefaultListen()...),
			EnvVars: []string{"HEARSAY_LISTEN"},
		}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{
			Name:    "join",
			Usage:   "multiaddr with /p2p/<peer ID> of a node to join through (repeatable)",
			EnvVars: []string{"HEARSAY_JOIN"},
		}),
		altsrc.NewStringFlag(dataDirFlag()),
		altsrc.NewStringFlag(&cli.StringFlag{
			Name:    "broadcast",
			Usage:   "broadcast protocol: plumtree or gossipsub",
			Value:   agent.BroadcastPlumtree,
			EnvVars: []string{"HEARSAY_BROADCAST"},
		}),
		altsrc.NewStringFlag(&cli.StringFlag{
			Name:    "datastore",
			Usage:   "where the keyspace lives: pebble or leveldb (under --data-dir), or memory",
			Value:   agent.DatastorePebble,
			EnvVars: []string{"HEARSAY_DATASTORE"},
		}),
		&cli.BoolFlag{
			Name:   "keep-identity",
			Usage:  "(benchmarks) keep the identity file in --data-dir with --datastore memory, which otherwise takes a new peer ID at every start",
			Hidden: true,
		},
		altsrc.NewStringFlag(&cli.StringFlag{
			Name:    "rpc-listen",
			Usage:   "loopback host:port of the JSON-RPC endpoint (empty disables it)",
			Value:   "127.0.0.1:7781",
			EnvVars: []string{"HEARSAY_RPC_LISTEN"},
		}),
		altsrc.NewIntFlag(maxProcsFlag()),
		altsrc.NewStringFlag(&cli.StringFlag{
			Name:    "log-format",
			Usage:   "text, json or auto",
			Value:   "auto",
			EnvVars: []string{"HEARSAY_LOG_FORMAT"},
		}),
		altsrc.NewStringFlag(&cli.StringFlag{
			Name:    "log-level",
			Usage:   "debug, info, warn or error",
			Value:   "info",
			EnvVars: []string{"HEARSAY_LOG_LEVEL"},
		}),
	}
	return &cli.Command{
		Name:   "agent",
		Usage:  "run a hearsay agent",
		Flags:  flags,
		Before: altsrc.InitInputSourceWithContext(flags, altsrc.NewTomlSourceFromFlagFunc("config")),
		Action: runAgent,
	}
}

func runAgent(c *cli.Context) error { return runAgentWith(c, nil) }

// runAgentWith runs an agent from the command's flags, letting tune adjust
// the config before it is validated (the hidden bench member command sets
// tick intervals this way).
func runAgentWith(c *cli.Context, tune func(*agent.Config)) error {
	log, err := newLogger(c.App.ErrWriter, c.String("log-format"), c.String("log-level"))
	if err != nil {
		return withCode(exitUsage, err)
	}
	if err := applyMaxProcs(c); err != nil {
		return withCode(exitUsage, err)
	}
	cfg := agent.DefaultConfig()
	cfg.DataDir = c.String("data-dir")
	cfg.Listen = c.StringSlice("listen")
	cfg.Join = c.StringSlice("join")
	cfg.RPCListen = c.String("rpc-listen")
	if b := c.String("broadcast"); b != "" {
		cfg.Broadcast = b
	}
	cfg.Datastore = c.String("datastore")
	cfg.KeepIdentity = c.Bool("keep-identity")
	cfg.Log = log
	if tune != nil {
		tune(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return withCode(exitUsage, err)
	}
	metrics := prometheus.NewRegistry()
	cfg.Metrics = metrics
	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	out := c.App.Writer
	fmt.Fprintf(out, "peer ID: %s\n", a.ID())
	for _, addr := range a.Addrs() {
		fmt.Fprintln(out, addr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.RPCListen != "" {
		srv, err := rpc.Listen(cfg.RPCListen, cfg.DataDir, version, a, log, metrics)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "rpc: http://%s/\n", srv.Addr())
		go func() {
			if err := srv.Serve(); err != nil {
				log.Error("rpc server", "err", err)
			}
		}()
		defer srv.Close()
	}
	if f, ok := out.(*os.File); ok {
		f.Sync()
	}
	return a.Run(ctx)
}
