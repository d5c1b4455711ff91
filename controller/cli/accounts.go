package cli

// Dashboard users and API tokens: who may use the dashboard and the API,
// each change in the log with who made it.

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/store"
)

func zonesList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func userAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user add", stderr)
	db := addDBFlags(fs)
	role := fs.String("role", "", "guard, manager or admin")
	zones := fs.String("zones", "", "a manager's zones, comma separated")
	password := fs.String("password", "", "password (a random one is made and printed when empty)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !sekisho.ValidRole(*role) {
		return fmt.Errorf("%w: user add NAME --role guard|manager|admin", errUsage)
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	pw := *password
	if pw == "" {
		pw = store.NewSecret(12)
	}
	if err := st.CreateUser(ctx, pos[0], *role, zonesList(*zones), pw); err != nil {
		return err
	}
	if err := st.Append(ctx, &event.Event{Type: event.UserCreated, Actor: cliActor(),
		Detail: map[string]string{"user": pos[0], "role": *role, "zones": *zones}}); err != nil {
		return fmt.Errorf("user %s created, but not logged: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "user %s (%s) created", pos[0], *role)
	if *password == "" {
		fmt.Fprintf(stdout, "; password: %s (shown only now)", pw)
	}
	fmt.Fprintln(stdout)
	return nil
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withDB(ctx, "user list", args, stderr, func(st *store.Store) error {
		users, err := st.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tZONES\tCREATED\tSESSIONS\tREVOKED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", u.Name, u.Role, cmp.Or(strings.Join(u.Zones, ","), "-"),
				u.CreatedAt, u.Sessions, cmp.Or(u.RevokedAt, "-"))
		}
		return tw.Flush()
	})
}

func userPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user password", stderr)
	db := addDBFlags(fs)
	password := fs.String("password", "", "the new password (a random one is made and printed when empty)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: user password takes the user's name (controller user list)", errUsage)
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	pw := cmp.Or(*password, store.NewSecret(12))
	if err := st.SetPassword(ctx, pos[0], pw); err != nil {
		return err
	}
	if err := st.Append(ctx, &event.Event{Type: event.UserPasswordChanged, Actor: cliActor(),
		Detail: map[string]string{"user": pos[0]}}); err != nil {
		return fmt.Errorf("password of %s set, but not logged: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "password of %s set; their sessions are ended", pos[0])
	if *password == "" {
		fmt.Fprintf(stdout, "; password: %s (shown only now)", pw)
	}
	fmt.Fprintln(stdout)
	return nil
}

func userRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withDBArg(ctx, "user revoke", "the user's name (controller user list)", args, stderr, func(st *store.Store, name string) error {
		if err := st.RevokeUser(ctx, name); err != nil {
			return err
		}
		if err := st.Append(ctx, &event.Event{Type: event.UserRevoked, Actor: cliActor(),
			Detail: map[string]string{"user": name}}); err != nil {
			return fmt.Errorf("user %s revoked, but not logged: %w", name, err)
		}
		fmt.Fprintf(stdout, "user %s revoked; their sessions are ended\n", name)
		return nil
	})
}

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token create", stderr)
	db := addDBFlags(fs)
	role := fs.String("role", "", "guard, manager, admin, or auditor (the log's checkpoints, tiles and proofs alone)")
	zones := fs.String("zones", "", "zones the token may see, comma separated")
	label := fs.String("label", "", "what the token is for")
	expires := fs.Duration("expires", 365*24*time.Hour, "how long the token lasts (0: until revoked)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if !sekisho.ValidTokenRole(*role) {
		return fmt.Errorf("%w: token create --role guard|manager|admin|auditor", errUsage)
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var until time.Time
	if *expires > 0 {
		until = time.Now().Add(*expires)
	}
	token, id, err := st.CreateToken(ctx, *role, zonesList(*zones), *label, until)
	if err != nil {
		return err
	}
	if err := st.Append(ctx, &event.Event{Type: event.TokenCreated, Actor: cliActor(),
		Detail: map[string]string{"token": strconv.FormatInt(id, 10), "role": *role, "zones": *zones, "label": *label, "expires": expiresText(until)}}); err != nil {
		return fmt.Errorf("token created, but not logged: %w", err)
	}
	// The token alone on stdout, so scripts can capture it.
	fmt.Fprintln(stdout, token)
	fmt.Fprintf(stderr, "token %d created, %s; it is shown only now and stored hashed\n", id, expiresText(until))
	return nil
}

func expiresText(t time.Time) string {
	if t.IsZero() {
		return "never expires"
	}
	return "expires " + t.UTC().Format(time.RFC3339)
}

func tokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withDB(ctx, "token list", args, stderr, func(st *store.Store) error {
		tokens, err := st.Tokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tZONES\tLABEL\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
		for _, t := range tokens {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, strings.Join(t.Zones, ","), t.Label,
				t.CreatedAt, cmp.Or(t.ExpiresAt, "never"), cmp.Or(t.LastUsed, "-"), cmp.Or(t.RevokedAt, "-"))
		}
		return tw.Flush()
	})
}

func tokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withDBArg(ctx, "token revoke", "the token's id (controller token list)", args, stderr, func(st *store.Store, arg string) error {
		id, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: token revoke %q: want the id number from controller token list", errUsage, arg)
		}
		if err := st.RevokeToken(ctx, id); err != nil {
			return err
		}
		if err := st.Append(ctx, &event.Event{Type: event.TokenRevoked, Actor: cliActor(),
			Detail: map[string]string{"token": arg}}); err != nil {
			return fmt.Errorf("token %d revoked, but not logged: %w", id, err)
		}
		fmt.Fprintf(stdout, "token %d revoked\n", id)
		return nil
	})
}
