package operator

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
)

// eraseCommand is `ops erase`: an applicant's records written under a
// retired e-mail hash key, the address read from standard input.
var eraseCommand = subcommand{
	name: "erase",
	usage: `  erase -workspace W -key-env NAME < address erase an applicant's records written under a retired
                                             e-mail hash key (the key in the variable NAME; the
                                             address on standard input, never printed)
`,
	flags: func(fs *flag.FlagSet, c *command) action {
		ws := fs.String("workspace", "", "the workspace (required)")
		keyEnv := fs.String("key-env", "", "the variable that holds the retired hash key (required)")
		var key, email string
		check := func() error {
			if *ws == "" || *keyEnv == "" {
				return errors.New("-workspace and -key-env are required")
			}
			if key = os.Getenv(*keyEnv); key == "" {
				return fmt.Errorf("%s is not set", *keyEnv)
			}
			line, err := bufio.NewReader(c.stdin).ReadString('\n')
			if email = strings.TrimSpace(line); email == "" {
				return fmt.Errorf("no address on standard input (%v)", err)
			}
			return nil
		}
		return action{check: check, run: func(ctx context.Context, o *Operator) error {
			e, err := o.EraseWithKey(ctx, *ws, email, []byte(key))
			if err != nil {
				return err
			}
			return c.print(e, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "removed %d delivery records kept under the retired key in workspace %s (%d still had a copy on its way, which the worker drops)\n",
					e.Records, *ws, e.QueuedCopies)
			})
		}}
	},
}
