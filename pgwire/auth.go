package pgwire

import (
	"bufio"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// AuthMode is how the server authenticates clients.
type AuthMode int

// The authentication modes.
const (
	// AuthTrust lets every client in as the user it names (loopback only).
	AuthTrust AuthMode = iota
	// AuthPassword asks for the password in clear text (use TLS).
	AuthPassword
	// AuthMD5 asks for PostgreSQL's salted MD5 hash of the password.
	AuthMD5
	// AuthSCRAM runs SCRAM-SHA-256 (RFC 5802, RFC 7677), as PostgreSQL does.
	AuthSCRAM
)

// String returns the mode's flag spelling.
func (m AuthMode) String() string {
	switch m {
	case AuthTrust:
		return "trust"
	case AuthPassword:
		return "password"
	case AuthMD5:
		return "md5"
	case AuthSCRAM:
		return "scram"
	}
	return fmt.Sprintf("AuthMode(%d)", int(m))
}

// ParseAuthMode parses trust, password, md5 or scram (scram-sha-256).
func ParseAuthMode(s string) (AuthMode, error) {
	switch strings.ToLower(s) {
	case "trust":
		return AuthTrust, nil
	case "password", "cleartext":
		return AuthPassword, nil
	case "md5":
		return AuthMD5, nil
	case "scram", "scram-sha-256":
		return AuthSCRAM, nil
	}
	return 0, fmt.Errorf("unknown authentication mode %q (want trust, password, md5 or scram)", s)
}

// ParseUser parses "name:password" into users, which it fills.
func ParseUser(users map[string]string, spec string) error {
	name, pw, ok := strings.Cut(spec, ":")
	if !ok || name == "" {
		return fmt.Errorf("user %q: want name:password", spec)
	}
	users[name] = pw
	return nil
}

// LoadUsers reads a users file into users: one name:password a line;
// blank lines and lines starting with # are skipped.
func LoadUsers(users map[string]string, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	defer f.Close()
	return readUsers(users, f, path)
}

func readUsers(users map[string]string, r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := ParseUser(users, line); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// errAuth is a failed authentication; the client gets 28P01.
var errAuth = errors.New("password authentication failed")

// authenticate runs the configured exchange for user. It returns errAuth
// (wrapped) when the client fails it.
func (c *conn) authenticate(user string) error {
	cfg := c.srv.cfg
	switch cfg.Auth {
	case AuthTrust:
		return nil
	case AuthPassword:
		c.be.Send(&pgproto3.AuthenticationCleartextPassword{})
		pw, err := c.receivePassword(pgproto3.AuthTypeCleartextPassword)
		if err != nil {
			return err
		}
		want, ok := cfg.Users[user]
		if !ok || subtle.ConstantTimeCompare([]byte(pw), []byte(want)) != 1 {
			return errAuth
		}
		return nil
	case AuthMD5:
		var salt [4]byte
		if _, err := rand.Read(salt[:]); err != nil {
			return err
		}
		c.be.Send(&pgproto3.AuthenticationMD5Password{Salt: salt})
		got, err := c.receivePassword(pgproto3.AuthTypeMD5Password)
		if err != nil {
			return err
		}
		want, ok := cfg.Users[user]
		if !ok {
			want = "\x00no such user"
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(md5Password(user, want, salt))) != 1 || !ok {
			return errAuth
		}
		return nil
	case AuthSCRAM:
		return c.scramExchange(user)
	}
	return fmt.Errorf("authentication mode %v not supported", cfg.Auth)
}

// receivePassword flushes the authentication request and reads the
// client's PasswordMessage.
func (c *conn) receivePassword(authType uint32) (string, error) {
	if err := c.be.SetAuthType(authType); err != nil {
		return "", err
	}
	if err := c.be.Flush(); err != nil {
		return "", err
	}
	msg, err := c.be.Receive()
	if err != nil {
		return "", err
	}
	pm, ok := msg.(*pgproto3.PasswordMessage)
	if !ok {
		return "", fmt.Errorf("%w: expected a password message, got %T", errProtocol, msg)
	}
	return pm.Password, nil
}

// md5Password is what a client sends for md5 authentication:
// "md5" + md5hex(md5hex(password + user) + salt).
func md5Password(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	h := hex.EncodeToString(inner[:])
	outer := md5.Sum(append([]byte(h), salt[:]...))
	return "md5" + hex.EncodeToString(outer[:])
}

// scramIterations is the PBKDF2 iteration count, PostgreSQL's default.
const scramIterations = 4096

// scramCreds are a user's SCRAM-SHA-256 verifier: what PostgreSQL keeps in
// pg_authid instead of the password.
type scramCreds struct {
	salt      []byte
	storedKey []byte
	serverKey []byte
}

func newSCRAMCreds(password string) (*scramCreds, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return nil, err
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return &scramCreds{salt: salt, storedKey: stored[:], serverKey: hmacSHA256(salted, "Server Key")}, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramExchange runs SCRAM-SHA-256 without channel binding. The user
// name in the SCRAM messages is ignored, as PostgreSQL does: the startup
// message's user is the one authenticated.
func (c *conn) scramExchange(user string) error {
	c.be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	if err := c.be.SetAuthType(pgproto3.AuthTypeSASL); err != nil {
		return err
	}
	if err := c.be.Flush(); err != nil {
		return err
	}
	msg, err := c.be.Receive()
	if err != nil {
		return err
	}
	init, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok {
		return fmt.Errorf("%w: expected SASLInitialResponse, got %T", errProtocol, msg)
	}
	if init.AuthMechanism != "SCRAM-SHA-256" {
		return fmt.Errorf("%w: unsupported SASL mechanism %q", errProtocol, init.AuthMechanism)
	}
	clientFirst := string(init.Data)
	// gs2-header: "n,," or "y,," (no channel binding), then the bare message.
	var gs2 string
	switch {
	case strings.HasPrefix(clientFirst, "n,,"), strings.HasPrefix(clientFirst, "y,,"):
		gs2 = clientFirst[:3]
	default:
		return fmt.Errorf("%w: SCRAM channel binding is not supported", errProtocol)
	}
	bare := clientFirst[3:]
	attrs := scramAttrs(bare)
	clientNonce := attrs["r"]
	if clientNonce == "" {
		return fmt.Errorf("%w: SCRAM client-first-message without a nonce", errProtocol)
	}
	creds := c.srv.scram[user]
	known := creds != nil
	if !known {
		// Go through the motions with a throwaway verifier, so an unknown
		// user is not told apart from a wrong password.
		if creds, err = newSCRAMCreds(""); err != nil {
			return err
		}
	}
	var nb [18]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return err
	}
	nonce := clientNonce + base64.StdEncoding.EncodeToString(nb[:])
	serverFirst := fmt.Sprintf("r=%s,s=%s,i=%d", nonce, base64.StdEncoding.EncodeToString(creds.salt), scramIterations)
	c.be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if err := c.be.SetAuthType(pgproto3.AuthTypeSASLContinue); err != nil {
		return err
	}
	if err := c.be.Flush(); err != nil {
		return err
	}
	msg, err = c.be.Receive()
	if err != nil {
		return err
	}
	resp, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return fmt.Errorf("%w: expected SASLResponse, got %T", errProtocol, msg)
	}
	clientFinal := string(resp.Data)
	i := strings.LastIndex(clientFinal, ",p=")
	if i < 0 {
		return fmt.Errorf("%w: SCRAM client-final-message without a proof", errProtocol)
	}
	withoutProof := clientFinal[:i]
	fa := scramAttrs(withoutProof)
	if fa["c"] != base64.StdEncoding.EncodeToString([]byte(gs2)) || fa["r"] != nonce {
		return errAuth
	}
	proof, err := base64.StdEncoding.DecodeString(clientFinal[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return errAuth
	}
	authMessage := bare + "," + serverFirst + "," + withoutProof
	sig := hmacSHA256(creds.storedKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	for j := range clientKey {
		clientKey[j] = proof[j] ^ sig[j]
	}
	got := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(got[:], creds.storedKey) != 1 || !known {
		return errAuth
	}
	serverSig := hmacSHA256(creds.serverKey, authMessage)
	c.be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(serverSig))})
	return nil
}

// scramAttrs splits "a=1,b=2" into its attributes.
func scramAttrs(s string) map[string]string {
	m := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(part, "="); ok && len(k) == 1 {
			if _, dup := m[k]; !dup {
				m[k] = v
			}
		}
	}
	return m
}
