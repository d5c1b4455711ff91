// Package sitekeys keeps the controller's keys in its data dir, each file
// readable by the controller's user alone: the ed25519 key that signs what
// door Pis obey, the key that signs the log's checkpoints, the door Pis'
// enrolled keys, and the embedded broker's self-signed certificate.
package sitekeys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Dir is where the keys live under a data dir.
func Dir(dataDir string) string { return filepath.Join(dataDir, "keys") }

// Controller loads the controller's signing key, making it at first use.
func Controller(dataDir string) (ed25519.PrivateKey, error) {
	return signingKey(filepath.Join(Dir(dataDir), "controller.key"), "controller key")
}

// Log loads the key that signs the log's checkpoints, making it at first
// use. It is a key of its own: what vouches for the log is not what opens
// doors, and it can be handed to an auditor's tools without the other.
func Log(dataDir string) (key ed25519.PrivateKey, created bool, err error) {
	path := LogKeyPath(dataDir)
	_, statErr := os.Stat(path)
	key, err = signingKey(path, "log key")
	return key, errors.Is(statErr, os.ErrNotExist) && err == nil, err
}

// LogKeyPath is where the log's checkpoint key lives.
func LogKeyPath(dataDir string) string { return filepath.Join(Dir(dataDir), "log.key") }

func signingKey(path, what string) (ed25519.PrivateKey, error) {
	if b, err := os.ReadFile(path); err == nil {
		block, _ := pem.Decode(b)
		if block == nil {
			return nil, fmt.Errorf("%s %s: not PEM", what, path)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", what, path, err)
		}
		key, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s %s: not an ed25519 key", what, path)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := writePrivate(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, err
	}
	return key, nil
}

// Fingerprint is a short, readable hash of a public key or certificate, for
// an installer to compare by eye.
func Fingerprint(b []byte) string {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:16])
	var parts []string
	for i := 0; i < len(h); i += 4 {
		parts = append(parts, h[i:i+4])
	}
	return strings.Join(parts, ":")
}

func bridgePath(dataDir, id string) string {
	return filepath.Join(Dir(dataDir), "bridge-"+id+".pub")
}

// SaveBridge records a door Pi's enrolled public key.
func SaveBridge(dataDir, id string, boxPublic []byte) error {
	return writePrivate(bridgePath(dataDir, id), []byte(hex.EncodeToString(boxPublic)+"\n"))
}

// Bridge is a door Pi's enrolled public key; nil if it was never enrolled.
func Bridge(dataDir, id string) ([]byte, error) {
	b, err := os.ReadFile(bridgePath(dataDir, id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("door Pi %s key: %w", id, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("door Pi %s key %s: not 32 bytes of hex", id, bridgePath(dataDir, id))
	}
	return key, nil
}

// BrokerCert loads the embedded broker's self-signed certificate, making
// it at first use for hosts and this machine's own names and addresses. It
// returns the certificate and key as PEM.
func BrokerCert(dataDir string, hosts []string) (certPEM, keyPEM []byte, created bool, err error) {
	return selfSigned(dataDir, "broker", "Sekisho embedded MQTT broker", hosts)
}

// DashboardCert is the same for the dashboard's HTTPS.
func DashboardCert(dataDir string, hosts []string) (certPEM, keyPEM []byte, created bool, err error) {
	return selfSigned(dataDir, "https", "Sekisho dashboard", hosts)
}

// DashboardCertPath is where the dashboard's self-signed certificate is.
func DashboardCertPath(dataDir string) string { return filepath.Join(Dir(dataDir), "https-cert.pem") }

func selfSigned(dataDir, name, commonName string, hosts []string) (certPEM, keyPEM []byte, created bool, err error) {
	certPath := filepath.Join(Dir(dataDir), name+"-cert.pem")
	keyPath := filepath.Join(Dir(dataDir), name+"-key.pem")
	certPEM, errC := os.ReadFile(certPath)
	keyPEM, errK := os.ReadFile(keyPath)
	if errC == nil && errK == nil {
		return certPEM, keyPEM, false, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, false, fmt.Errorf("%s certificate: %w", name, err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(20, 0, 0), // a door Pi's life; replaced by enrolling again
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	for _, h := range append(machineNames(), hosts...) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, false, fmt.Errorf("%s certificate: %w", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, false, fmt.Errorf("%s certificate: %w", name, err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writePrivate(keyPath, keyPEM); err != nil {
		return nil, nil, false, err
	}
	if err := writePrivate(certPath, certPEM); err != nil {
		return nil, nil, false, err
	}
	return certPEM, keyPEM, true, nil
}

// CertFingerprint is the SHA-256 fingerprint of a PEM certificate's DER.
func CertFingerprint(certPEM []byte) string {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return "(not PEM)"
	}
	sum := sha256.Sum256(block.Bytes)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// machineNames are this machine's host name and addresses.
func machineNames() []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil {
		names = append(names, h)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
			names = append(names, n.IP.String())
		}
	}
	return names
}

func writePrivate(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, body, 0o600); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return nil
}
