package main

import (
	"slices"
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
		// A command runs itself unless a subcommand follows (`cairn
		// snapshot schedule VOL` against `cairn snapshot create ...`).
		if len(cmd.Subcommands) == 0 || i >= len(args) || findCommand(cmd.Subcommands, args[i]) == nil {
			return reorder(args, i, cmd.Flags, app.Flags)
		}
		cmds = cmd.Subcommands
	}
	return args
}

// reorder puts the flags among args[from:] before the positionals, and
// the global ones (in globals, not in flags) before the command path,
// where urfave/cli looks for them: `cairn mount VOL DIR --cluster A`.
func reorder(args []string, from int, flags, globals []cli.Flag) []string {
	var gl, fl, pos []string
	for i := from; i < len(args); {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			if !hasFlag(flags, a) && hasFlag(globals, a) {
				w := min(flagWidth(globals, a), len(args)-i)
				gl = append(gl, args[i:i+w]...)
				i += w
				continue
			}
			w := min(flagWidth(flags, a), len(args)-i)
			fl = append(fl, args[i:i+w]...)
			i += w
		default:
			pos = append(pos, a)
			i++
		}
	}
	out := append([]string{args[0]}, gl...)
	out = append(out, args[1:from]...)
	out = append(out, fl...)
	return append(out, pos...)
}

// hasFlag reports whether arg names one of flags.
func hasFlag(flags []cli.Flag, arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
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
