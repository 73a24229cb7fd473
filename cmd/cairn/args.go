package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves the flags that follow a command's positional
// arguments in front of them, so that `cairn mount VOL DIR --read-only`
// works as users expect (urfave/cli stops parsing flags at the first
// positional argument). A flag's value travels with it; "--" ends flags.
func interspersed(app *cli.App, args []string) []string {
	cmds := app.Commands
	i := 1
	// Global flags and the command path.
	for i < len(args) {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			i += flagWidth(app.Flags, a)
			continue
		}
		cmd := findCommand(cmds, a)
		if cmd == nil {
			return args
		}
		i++
		if len(cmd.Subcommands) == 0 {
			return reorder(args, i, cmd.Flags)
		}
		cmds = cmd.Subcommands
	}
	return args
}

// reorder puts the flags among args[from:] before the positionals.
func reorder(args []string, from int, flags []cli.Flag) []string {
	var fl, pos []string
	for i := from; i < len(args); {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			w := min(flagWidth(flags, a), len(args)-i)
			fl = append(fl, args[i:i+w]...)
			i += w
		default:
			pos = append(pos, a)
			i++
		}
	}
	out := append([]string(nil), args[:from]...)
	out = append(out, fl...)
	return append(out, pos...)
}

// flagWidth is how many arguments flag arg takes: 2 for a flag whose value
// is the next argument, 1 otherwise.
func flagWidth(flags []cli.Flag, arg string) int {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return 1
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, ok := f.(*cli.BoolFlag); ok {
				return 1
			}
			return 2
		}
	}
	return 1
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
