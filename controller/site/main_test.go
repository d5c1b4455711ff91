package site

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/sekisho/sekisho/controller/store"
	"golang.org/x/crypto/bcrypt"
)

// TestMain is also the door Pis' process of the fleet benchmark, when
// SEKISHO_FLEET_PIS names their enrolments.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SEKISHO_FLEET_PIS"); dir != "" {
		out, err := swipeFleet(dir, os.Getenv("SEKISHO_FLEET_BROKER"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = json.NewEncoder(os.Stdout).Encode(out)
		os.Exit(0)
	}
	store.PasswordCost = bcrypt.MinCost // the sites here are the tests', not a real one's
	os.Exit(m.Run())
}
