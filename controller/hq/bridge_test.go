package hq_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/sekisho"
	"github.com/sekisho/sekisho/controller/testtool"
)

// A plant on its own Mosquitto, bridged to head office with the shipped
// configs/mosquitto/bridge-to-hq.conf (its TLS and login lines left out:
// the test's head-office broker is plain and open): the plant's log
// reaches head office and is verified, head office's countersignature
// comes back through the bridge and is kept, and so does a revocation.
func TestPlantBridgedByMosquitto(t *testing.T) {
	t.Parallel()
	hq := newOffice(t)
	conf, err := os.ReadFile("../../configs/mosquitto/bridge-to-hq.conf")
	if err != nil {
		t.Fatal(err)
	}
	var bridge []string
	for _, line := range strings.Split(string(conf), "\n") {
		switch f := strings.Fields(line); {
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		case f[0] == "bridge_cafile" || f[0] == "bridge_tls_version" || f[0] == "bridge_insecure" || f[0] == "remote_username" || f[0] == "remote_password":
		case f[0] == "address":
			bridge = append(bridge, fmt.Sprintf("address 127.0.0.1:%d", hq.broker.Port))
		default:
			bridge = append(bridge, strings.ReplaceAll(line, "hamamatsu-press", "plant-m"))
		}
	}
	local := testtool.StartMosquittoWith(t, strings.Join(bridge, "\n")+"\n")
	p := hq.startPlantWith("plant-m", t.TempDir(), newCuttable(t, fmt.Sprintf("127.0.0.1:%d", hq.broker.Port)), func(cfg *config.Config) {
		cfg.MQTT.Embedded = nil
		cfg.MQTT.External = &config.ExternalBroker{URL: local.URL}
		cfg.HQ = &config.HQ{Key: hq.vkey} // no broker: the bridge carries it
	})
	var person sekisho.Person
	if code := p.call(http.MethodPost, "/api/people", map[string]any{"name": "Mori", "employee_number": "E-9"}, &person); code != http.StatusCreated {
		t.Fatalf("enrol: %d", code)
	}
	office := hq.run(hq.config(p), "hq-1")
	p.swipe(1)
	head := p.Store.Head()
	testtool.WaitFor(t, 90*time.Second, "the bridged plant's events verified and countersigned at head office", func() bool {
		st := hq.status("plant-m")
		return st.VerifiedSeq >= head && st.CosignedSize >= head
	})
	testtool.WaitFor(t, 60*time.Second, "the countersignature back at the plant through the bridge", func() bool {
		var n int
		_ = p.Store.DB().QueryRow(`SELECT count(*) FROM tree_cosignatures WHERE name = 'hq.example'`).Scan(&n)
		return n > 0
	})
	if _, err := office.Revoke(context.Background(), "E-9", "honsha", ""); err != nil {
		t.Fatal(err)
	}
	testtool.WaitFor(t, 60*time.Second, "the revocation applied through the bridge", func() bool {
		got, err := p.Store.Person(context.Background(), person.ID)
		return err == nil && got.Disabled
	})
	testtool.WaitFor(t, 60*time.Second, "the plant's acknowledgement at head office", func() bool {
		rs, err := hq.ledger.Revocations(context.Background(), []string{"plant-m"})
		return err == nil && len(rs) == 1 && rs[0].Applied["plant-m"] == 1
	})
}
