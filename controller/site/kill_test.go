package site_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/testtool"
)

// freePort is a loopback port nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// A subscriber with a persistent session on the embedded broker gets every
// event of the log, in order, across rounds of kill -9 during bursts of
// swipes: the broker keeps its session and queue on disk, and the outbox
// sends again what the broker may have acknowledged and not stored.
func TestPersistentSubscriberGetsEveryEventAcrossKill9(t *testing.T) {
	t.Parallel()
	bin := testtool.Build(t, "github.com/sekisho/sekisho/controller")
	dataDir := t.TempDir()
	httpAddr, mqttAddr := freePort(t), freePort(t)
	base := "http://" + httpAddr
	var proc *exec.Cmd
	start := func() {
		proc = exec.Command(bin, "run", "--config", "../../configs/demo-factory.yaml", "--data-dir", dataDir,
			"--http", httpAddr, "--mqtt-listen", mqttAddr)
		logf, _ := os.OpenFile(filepath.Join(dataDir, "controller.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		proc.Stdout, proc.Stderr = logf, logf
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		waitForUpTo(t, time.Minute, "the controller to answer after starting", func() bool {
			res, err := http.Get(base + "/api/health")
			if err != nil {
				return false
			}
			res.Body.Close()
			return res.StatusCode == http.StatusOK
		})
	}
	kill := func() {
		proc.Process.Signal(syscall.SIGKILL)
		proc.Wait()
	}
	start()
	t.Cleanup(func() {
		if proc.ProcessState == nil {
			kill()
		}
	})

	var mu sync.Mutex
	var firsts []int64 // seqs in the order they first arrived
	seen := map[int64]bool{}
	opts := paho.NewClientOptions().AddBroker("tcp://" + mqttAddr).SetClientID("keeper-elsewhere").
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(50 * time.Millisecond).SetMaxReconnectInterval(200 * time.Millisecond)
	opts.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe("sekisho/hamamatsu-press/events", 1, func(_ paho.Client, m paho.Message) {
			var ev event.Event
			if json.Unmarshal(m.Payload(), &ev) != nil {
				return
			}
			mu.Lock()
			if !seen[ev.Seq] {
				seen[ev.Seq] = true
				firsts = append(firsts, ev.Seq)
			}
			mu.Unlock()
		})
	})
	sub := paho.NewClient(opts)
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer sub.Disconnect(100)

	var swiped atomic.Int64
	swipe := func() {
		body := fmt.Sprintf(`{"format":"H10301","facility":12,"number":%d}`, 345+swiped.Load()%2)
		res, err := http.Post(base+"/api/sim/readers/r-floor-out/wiegand", "application/json", strings.NewReader(body))
		if err == nil {
			res.Body.Close()
			swiped.Add(1)
		}
	}
	for round := range 5 {
		// A burst, then the plug pulled in the middle of the next one.
		for range 15 {
			swipe()
		}
		// The plug is pulled once round+1 swipes of the next burst are in:
		// a different moment of the burst each round.
		done, pull := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for i := range 15 {
				swipe()
				if i == round {
					close(pull)
				}
			}
		}()
		testtool.Recv(t, pull, time.Minute, "the burst to reach the pull")
		kill()
		testtool.Recv(t, done, time.Minute, "the burst to end")
		start()
	}

	// Every seq of the log, once the controller has published it.
	var head int64
	missing := func() []int64 {
		mu.Lock()
		defer mu.Unlock()
		var out []int64
		for seq := int64(1); seq <= head; seq++ {
			if !seen[seq] {
				out = append(out, seq)
			}
		}
		return out
	}
	// A busy machine and a race-checked controller take their time; what
	// matters is that every event comes.
	var got []int64
	defer func() {
		if t.Failed() {
			t.Logf("of %d events, the subscriber never got %v", head, got)
			if b, err := os.ReadFile(filepath.Join(dataDir, "controller.log")); err == nil {
				t.Logf("the controller's log, last 8 KiB:\n%s", b[max(0, len(b)-8192):])
			}
		}
	}()
	waitForUpTo(t, 90*time.Second, "the subscriber to have every event", func() bool {
		res, err := http.Get(base + "/api/health")
		if err != nil {
			return false
		}
		var h struct {
			HeadSeq int64 `json:"head_seq"`
		}
		json.NewDecoder(res.Body).Decode(&h)
		res.Body.Close()
		head = h.HeadSeq
		got = missing()
		return head > 0 && len(got) == 0
	})
	proc.Process.Signal(os.Interrupt)
	proc.Wait()
	if b, _ := os.ReadFile(filepath.Join(dataDir, "controller.log")); bytes.Contains(b, []byte("resend inflight")) {
		t.Error("the broker could not resend a restored session's queue (see sessionStore)")
	}
	// Right after a kill, what the broker queued is sent again before what
	// the outbox sends again, so a few arrive out of turn: the seq puts
	// them in order. Everywhere else they come in order.
	mu.Lock()
	defer mu.Unlock()
	late := 0
	for i := 1; i < len(firsts); i++ {
		if firsts[i] < firsts[i-1] {
			late++
		}
	}
	if late > 5*30 {
		t.Errorf("%d of %d events arrived out of turn", late, len(firsts))
	}
	t.Logf("%d events, %d swipes, 5 kills: every one received, %d out of turn", head, swiped.Load(), late)
}
