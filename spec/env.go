package spec

import (
	"fmt"
	"sort"
	"strings"
)

// passedNames are the caller's variables that reach the command unasked:
// the basics, then what CI systems say about the build and what toolchains
// read, so that a build inside behaves as it does outside.
var passedNames = []string{
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TZ", "TMPDIR", "CI",
	"COLORTERM", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "SOURCE_DATE_EPOCH", "DEBIAN_FRONTEND",
	// CI metadata: GitLab, Jenkins, Azure Pipelines, AppVeyor.
	"GITLAB_CI", "JENKINS_URL", "BUILD_NUMBER", "BUILD_ID", "BUILD_URL", "BUILD_TAG", "JOB_NAME", "JOB_URL",
	"EXECUTOR_NUMBER", "NODE_NAME", "WORKSPACE", "GIT_COMMIT", "GIT_BRANCH", "GIT_PREVIOUS_COMMIT",
	"BRANCH_NAME", "CHANGE_ID", "CHANGE_TARGET", "TAG_NAME", "TF_BUILD", "APPVEYOR",
	// Toolchains: C and make, Go, Node, Java, Python, Rust.
	"CC", "CXX", "CPP", "LD", "AR", "AS", "NM", "RANLIB", "STRIP", "OBJCOPY",
	"CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "LDLIBS", "MAKEFLAGS", "MFLAGS",
	"PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR",
	"GOFLAGS", "GOPROXY", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOSUMDB", "GOTOOLCHAIN",
	"GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOEXPERIMENT",
	"GODEBUG", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "CGO_ENABLED", "CGO_CFLAGS", "CGO_LDFLAGS",
	"NODE_OPTIONS", "NODE_ENV", "NODE_PATH",
	"JAVA_HOME", "JAVA_OPTS", "JAVA_TOOL_OPTIONS", "MAVEN_OPTS", "GRADLE_OPTS", "GRADLE_USER_HOME",
	"PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONHASHSEED", "VIRTUAL_ENV",
	"CARGO_HOME", "RUSTUP_HOME", "RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_INCREMENTAL", "RUST_BACKTRACE", "RUST_LOG",
}

// passedPrefixes are families of harmless variables: locale settings, and
// the build metadata of GitHub Actions, GitLab CI (and Woodpecker),
// Buildkite, CircleCI, Travis, Drone and Azure Pipelines. Their credentials
// (GITHUB_TOKEN, CI_JOB_TOKEN, BUILDKITE_AGENT_ACCESS_TOKEN...) look secret
// and stay out.
var passedPrefixes = []string{"LC_", "GITHUB_", "CI_", "BUILDKITE_", "CIRCLE_", "TRAVIS_", "DRONE_", "BUILD_", "SYSTEM_", "AGENT_"}

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
// allowlist (with all, every name) minus secret-looking names, then each
// --env request in order ("K=V" sets K, "K" passes the caller's K even if
// it looks secret). dropped are the caller's names that stayed out.
func FilterEnv(caller []string, requests []string, all bool) (env, dropped []string, err error) {
	callerVars := map[string]string{}
	for _, kv := range caller {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			callerVars[k] = v
		}
	}
	out := map[string]string{}
	for k, v := range callerVars {
		if (all || allowed(k)) && !LooksSecret(k) {
			out[k] = v
		}
	}
	for _, req := range requests {
		k, v, hasValue := strings.Cut(req, "=")
		if k == "" || strings.ContainsAny(k, "\x00") {
			return nil, nil, fmt.Errorf("--env %q: expected NAME=VALUE or NAME", req)
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
	env = make([]string, 0, len(out))
	for k, v := range out {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	for k := range callerVars {
		if _, ok := out[k]; !ok {
			dropped = append(dropped, k)
		}
	}
	sort.Strings(dropped)
	return env, dropped, nil
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
