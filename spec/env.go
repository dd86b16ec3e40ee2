package spec

import (
	"fmt"
	"sort"
	"strings"
)

// passedNames are the caller's variables that reach the command unasked.
var passedNames = []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TZ", "TMPDIR", "CI"}

// passedPrefixes are families of harmless variables (locale settings).
var passedPrefixes = []string{"LC_"}

// defaultPath is used when the caller has no PATH at all.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// LooksSecret reports whether a variable name looks like it carries a
// credential. Such names never enter the sandbox unless named with --env.
func LooksSecret(name string) bool {
	n := strings.ToUpper(name)
	for _, part := range []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE", "AUTH"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	for _, suffix := range []string{"_KEY", "_KEYS", "APIKEY", "_PAT"} {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	for _, prefix := range []string{"AWS_", "ACTIONS_", "AZURE_", "GOOGLE_APPLICATION", "SSH_", "GPG_", "DOCKER_", "NPM_CONFIG_", "VAULT_", "CI_JOB_", "RUNNER_"} {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// FilterEnv builds the command's environment from the caller's: the
// allowlist minus secret-looking names, then each --env request in order
// ("K=V" sets K, "K" passes the caller's K even if it looks secret).
func FilterEnv(caller []string, requests []string) ([]string, error) {
	callerVars := map[string]string{}
	for _, kv := range caller {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			callerVars[k] = v
		}
	}
	out := map[string]string{}
	for k, v := range callerVars {
		if allowed(k) && !LooksSecret(k) {
			out[k] = v
		}
	}
	for _, req := range requests {
		k, v, hasValue := strings.Cut(req, "=")
		if k == "" || strings.ContainsAny(k, "\x00") {
			return nil, fmt.Errorf("--env %q: expected NAME=VALUE or NAME", req)
		}
		if hasValue {
			out[k] = v
			continue
		}
		if cv, ok := callerVars[k]; ok {
			out[k] = cv
		}
	}
	if _, ok := out["PATH"]; !ok {
		out["PATH"] = defaultPath
	}
	env := make([]string, 0, len(out))
	for k, v := range out {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env, nil
}

func allowed(name string) bool {
	for _, n := range passedNames {
		if name == n {
			return true
		}
	}
	for _, p := range passedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Lookup returns the value of name in an environment list.
func Lookup(env []string, name string) (string, bool) {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}
