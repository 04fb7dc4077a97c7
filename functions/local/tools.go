package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

func runToken(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ws := fs.String("workspace", "ws_demo", "workspace_id claim")
	plan := fs.String("plan", "advanced", "plan claim")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	t, err := localstack.NewDevAuth([]byte(envOr("LOCAL_JWT_KEY", localstack.DevJWTKey))).Mint(*ws, *plan, *ttl)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, t)
	return 0
}

func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", envOr("LOCAL_API", "http://127.0.0.1:8080"), "the local stack")
	secret := fs.String("secret", envOr("WEBHOOK_SECRET", localstack.DevWebhookSecret), "signing secret")
	newID := fs.Bool("new-id", false, "give the event a fresh id (and the contact a fresh e-mail), to send a file more than once")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: local send [-new-id] FILE")
		return 2
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *newID {
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			fmt.Fprintf(stderr, "send: %v\n", err)
			return 1
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		suffix := hex.EncodeToString(b[:])
		ev["id"] = "evt_" + suffix
		ev["occurred_at"] = time.Now().UTC().Format(time.RFC3339)
		if c, ok := ev["contact"].(map[string]any); ok {
			if e, ok := c["email"].(string); ok {
				if at := strings.LastIndexByte(e, '@'); at > 0 {
					c["email"] = e[:at] + "+" + suffix + e[at:]
				}
			}
		}
		body, _ = json.Marshal(ev)
	}
	h, err := webhook.Sign(*secret, "msg_"+hex.EncodeToString(body[:min(8, len(body))]), time.Now(), body)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, *api+"/v1/events", strings.NewReader(string(body)))
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "send: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(stdout, "%d %s\n", resp.StatusCode, strings.TrimSpace(string(out)))
	if resp.StatusCode >= 300 {
		return 1
	}
	return 0
}

func runDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deliveries", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", envOr("LOCAL_API", "http://127.0.0.1:8080"), "the local stack")
	funnel := fs.String("funnel", "fn_office", "funnel id")
	status := fs.String("status", "", "only this status")
	ws := fs.String("workspace", "ws_demo", "workspace")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	token, _ := localstack.NewDevAuth([]byte(envOr("LOCAL_JWT_KEY", localstack.DevJWTKey))).Mint(*ws, "advanced", time.Hour)
	url := *api + "/v1/funnels/" + *funnel + "/deliveries?limit=50"
	if *status != "" {
		url += "&status=" + *status
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "deliveries: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	var page struct {
		Deliveries []struct {
			ID, Status, ReasonCode, Message string
			Attempts                        []any
			UpdatedAt                       time.Time `json:"updated_at"`
		} `json:"deliveries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
		fmt.Fprintf(stderr, "deliveries: answer %d\n", resp.StatusCode)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tATTEMPTS\tUPDATED\tREASON")
	for _, d := range page.Deliveries {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", d.ID, d.Status, len(d.Attempts), d.UpdatedAt.Local().Format(time.TimeOnly), d.ReasonCode)
	}
	_ = tw.Flush()
	return 0
}
