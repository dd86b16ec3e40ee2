#!/usr/bin/env bash
# Usage: bench/cbuild.sh [--runs N] [--out DIR]
#
# A C build that reads the system headers, inside `sbx run` against the same
# build outside, side by side, as an unprivileged user. The script generates
# a C project in the bench user's directory $W/c: 80 source files, each of
# them including a broad set of libc and POSIX headers from /usr/include
# (stdio.h stdlib.h string.h unistd.h sys/stat.h fcntl.h math.h pthread.h
# signal.h time.h errno.h netinet/in.h arpa/inet.h sys/socket.h ..., those of
# the list that compile here) and four local headers, a main.c and a Makefile
# that compiles them (-O2, -pipe, make's dependency files) and links one
# program. Every build is a full one: `make -C c clean` runs before each,
# untimed. The two alternate in rounds, in a random order each round
# (bench/interleave.py), so that the machine's drift hits both alike:
#
#   cd $W && make -C c -j$(nproc)
#   cd $W && sbx run -- make -C c -j$(nproc)
#
# Inside, $W is the working directory, bound read-write at the same path;
# /usr/include, the compiler and the rest of the host are read through sbx's
# copy-on-write view. -pipe keeps the compiler's temporary files out of /tmp,
# which is a new tmpfs inside and the host's /tmp outside.
# Prints a markdown section on stdout with the ratio of medians inside/outside
# (target ≤ 1.05) and the ratio of CPU times. Progress goes to stderr.
#
#   --runs N    rounds (default 10; 1 warm-up run of each first)
#   --out DIR   also copy the JSON and markdown results to DIR
#
# Run as root, it builds sbx from this checkout and runs everything as
# ${SBX_BENCH_USER:-sbxtest} (runuser); run as a normal user, as that user.
# Needs hyperfine (for the shared setup), python3, Go at /usr/local/go (or
# GO=...), make and a C compiler (cc) with the libc headers.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
bench_args 10 "$@"
need make cc
bench_setup

target=1.05
W=$BENCH_TMP/work
C=$W/c
nfiles=80
jobs=$(nproc)

# The system headers every source file includes: those of this list that
# compile here (a libc without one of them still gets the rest).
candidates=(
	assert.h complex.h ctype.h dirent.h dlfcn.h errno.h fcntl.h fenv.h float.h
	fnmatch.h getopt.h glob.h grp.h iconv.h inttypes.h langinfo.h libgen.h
	limits.h locale.h math.h netdb.h poll.h pthread.h pwd.h regex.h sched.h
	search.h semaphore.h setjmp.h signal.h spawn.h stdarg.h stdbool.h stddef.h
	stdint.h stdio.h stdlib.h string.h strings.h syslog.h termios.h time.h
	unistd.h utime.h wchar.h wctype.h ifaddrs.h arpa/inet.h net/if.h
	netinet/in.h netinet/ip.h netinet/tcp.h sys/epoll.h sys/file.h sys/ioctl.h
	sys/mman.h sys/resource.h sys/select.h sys/socket.h sys/stat.h
	sys/statvfs.h sys/time.h sys/types.h sys/uio.h sys/un.h sys/utsname.h
	sys/wait.h
)
headers=()
for h in "${candidates[@]}"; do
	if printf '#define _GNU_SOURCE\n#include <%s>\n' "$h" | cc -fsyntax-only -x c - 2>/dev/null; then
		headers+=("$h")
	fi
done
((${#headers[@]} >= 20)) || die "only ${#headers[@]} of ${#candidates[@]} system headers compile here: ${headers[*]}"

echo "bench: generating a C project of $nfiles files in $C (${#headers[@]} system headers each)" >&2
mkdir -p "$C/src" "$C/include"
{
	echo '#ifndef BENCH_CONFIG_H'
	echo '#define BENCH_CONFIG_H'
	echo "#define BENCH_NFILES $nfiles"
	for ((i = 0; i < 64; i++)); do
		echo "#define BENCH_PARAM_$i ($i * 7 + 3)"
	done
	echo '#endif'
} >"$C/include/config.h"
cat >"$C/include/common.h" <<'EOF'
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include "config.h"

struct bench_buf {
	char *data;
	size_t len, cap;
};

struct bench_stats {
	uint64_t count;
	double sum, sum_sq, min, max;
};

#define BENCH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define BENCH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define BENCH_MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
EOF
cat >"$C/include/util.h" <<'EOF'
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H
#include <stdlib.h>
#include <string.h>
#include "common.h"

static inline int bench_buf_append(struct bench_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = BENCH_MAX(b->cap * 2, b->len + n + 1);
		char *d = realloc(b->data, cap);
		if (d == NULL)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static inline void bench_stats_add(struct bench_stats *st, double x)
{
	if (st->count == 0 || x < st->min)
		st->min = x;
	if (st->count == 0 || x > st->max)
		st->max = x;
	st->count++;
	st->sum += x;
	st->sum_sq += x * x;
}
#endif
EOF
{
	echo '#ifndef BENCH_MODS_H'
	echo '#define BENCH_MODS_H'
	for ((i = 0; i < nfiles; i++)); do
		echo "int mod_$i(const char *arg, struct bench_stats *st);"
	done
	echo '#endif'
} >"$C/include/mods.h"
for ((i = 0; i < nfiles; i++)); do
	{
		echo '#define _GNU_SOURCE'
		printf '#include <%s>\n' "${headers[@]}"
		echo '#include "common.h"'
		echo '#include "util.h"'
		echo '#include "mods.h"'
		cat <<EOF

static pthread_mutex_t lock_$i = PTHREAD_MUTEX_INITIALIZER;

static int probe_$i(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	close(fd);
	return (int)(st.st_size % (BENCH_PARAM_$((i % 64)) + 1));
}

static double mix_$i(double x)
{
	return sqrt(fabs(x)) * cos(x / ($i + 1.0)) + log1p(fabs(x));
}

int mod_$i(const char *arg, struct bench_stats *st)
{
	struct bench_buf b = {0};
	struct in_addr addr;
	char line[128];
	long v = strtol(arg, NULL, 10) + $i;
	int n;

	pthread_mutex_lock(&lock_$i);
	n = snprintf(line, sizeof line, "mod %d: %ld %s\n", $i, v, strerror(EINVAL));
	if (n > 0 && bench_buf_append(&b, line, (size_t)n) != 0)
		n = -1;
	if (inet_pton(AF_INET, "127.0.0.$((i % 250 + 1))", &addr) == 1)
		bench_stats_add(st, (double)ntohl(addr.s_addr));
	for (int k = 0; k < $((i % 7 + 3)); k++)
		bench_stats_add(st, mix_$i((double)(v + k)));
	bench_stats_add(st, (double)probe_$i(arg));
	bench_stats_add(st, (double)time(NULL));
	pthread_mutex_unlock(&lock_$i);
	free(b.data);
	return n;
}
EOF
	} >"$C/src/mod_$i.c"
done
{
	cat <<'EOF'
#include <stdio.h>
#include "common.h"
#include "mods.h"

int main(int argc, char **argv)
{
	struct bench_stats st = {0};
	const char *arg = argc > 1 ? argv[1] : "1";
	int n = 0;
EOF
	for ((i = 0; i < nfiles; i++)); do
		echo "	n += mod_$i(arg, &st);"
	done
	cat <<'EOF'
	printf("%d %llu\n", n, (unsigned long long)st.count);
	return 0;
}
EOF
} >"$C/src/main.c"
# Recipes start with a tab.
cat >"$C/Makefile" <<'EOF'
CC = cc
CFLAGS = -O2 -pipe -Wall -Wextra -Iinclude -MMD -MP
LDLIBS = -lm -lpthread
SRCS = $(wildcard src/*.c)
OBJS = $(SRCS:src/%.c=obj/%.o)

prog: $(OBJS)
	$(CC) -o $@ $(OBJS) $(LDLIBS)

obj/%.o: src/%.c | obj
	$(CC) $(CFLAGS) -c -o $@ $<

obj:
	mkdir -p obj

clean:
	rm -rf obj prog

.PHONY: clean
-include $(OBJS:.o=.d)
EOF
[[ $(id -u) != 0 ]] || chown -R "$BENCH_USER:" "$C"

make_cmd="make -s -C c -j$jobs"
sbx_cmd="$SBX run -- $make_cmd"

# Each side must build the program before its time means anything; inside,
# the objects must land in the host's directory. sbx's report says which
# view the run had.
as_user make -s -C c clean
as_user make -s -C c "-j$jobs" >&2 || die "the C project does not build outside sbx"
as_user c/prog >/dev/null || die "the C program built outside does not run"
as_user make -s -C c clean
as_user "$SBX" run --report cbuild-report.json -- make -s -C c "-j$jobs" >&2 ||
	die "the C project does not build inside sbx run"
[[ -x $C/prog && -f $C/obj/mod_0.o ]] || die "the build inside sbx run left no program in $C"
as_user c/prog >/dev/null || die "the C program built inside does not run"
view=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("view", "unknown"))' "$W/cbuild-report.json")

echo "bench: $runs interleaved rounds" >&2
cp "$BENCH_REPO/bench/interleave.py" "$BENCH_TMP/bin/"
as_user python3 "$BENCH_TMP/bin/interleave.py" --warmup 1 --runs "$runs" \
	--prepare "make -s -C c clean" --json cbuild.json --markdown cbuild.md \
	"outside: $make_cmd" "$make_cmd" \
	"inside: sbx run -- $make_cmd" "$sbx_cmd" >&2

json=$W/cbuild.json
outside=$(hyperfine_median "$json" 0)
inside=$(hyperfine_median "$json" 1)
r=$(ratio "$inside" "$outside")
outside_cpu=$(hyperfine_cpu "$json" 0)
inside_cpu=$(hyperfine_cpu "$json" 1)
r_cpu=$(ratio "$inside_cpu" "$outside_cpu")
spread=$(spread "$json")

if [[ -n $out ]]; then
	mkdir -p "$out"
	cp "$W/cbuild.json" "$W/cbuild.md" "$out/"
fi

cat <<EOF
### C build: \`make -j$jobs\` of $nfiles files that include the system headers, inside and outside \`sbx run\`

$(machine_info)
- compiler: $(cc --version | head -n1); $(make --version | head -n1)
- project: $nfiles files of $((${#headers[@]} + 3)) includes each (${#headers[@]} system headers and 3 local ones, which bring in a fourth), a main.c, one program linked; \`make -s -C c clean\` before every run
- view inside: \`$view\` (the report's \`view\`)
- runs: $runs per command after 1 warm-up run each, in $runs rounds that run both in a random order (\`bench/interleave.py\`)

$(sed "s|$SBX|sbx|g; s|$W|\$W|g" "$W/cbuild.md")

- median: outside $(python3 -c "print(f'{$outside:.2f}')") s, inside $(python3 -c "print(f'{$inside:.2f}')") s
- inside / outside (medians): **$r** (target ≤ $target): $(verdict "$r" "$target")
- CPU time (user + system, means): outside $(python3 -c "print(f'{$outside_cpu:.2f}')") s, inside $(python3 -c "print(f'{$inside_cpu:.2f}')") s, inside / outside **$r_cpu** (inside includes sbx's own processes, the FUSE server among them)
- for the noise: $spread
EOF
