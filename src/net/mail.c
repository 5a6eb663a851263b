/* mail.c: hand an RFC 5322 message to the configured sendmail command. */
#include "net/mail.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

bool
net_mail_send(const char *cmd, const char *msg, size_t len, int timeout_ms, const char *rid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	int fds[2], status = 0;
	double deadline;
	pid_t pid, w;

	if (cmd == NULL || *cmd == '\0')
		return false;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_error(rid, "sendmail: pipe: %s", strerror(errno));
		return false;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGTERM);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ) != 0) {
		log_error(rid, "sendmail: cannot start the TENANTRY_SENDMAIL command");
		pid = -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[0]);
	for (size_t off = 0; pid > 0 && off < len;) {
		ssize_t n = write(fds[1], msg + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;   /* the command stopped reading; its exit status decides */
		off += (size_t)n;
	}
	close(fds[1]);
	if (pid < 0)
		return false;
	deadline = core_mono_ms() + timeout_ms;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && core_mono_ms() < deadline) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		log_error(rid, "sendmail: the command took longer than %d ms and was killed", timeout_ms);
		return false;
	}
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_error(rid, "sendmail: the command failed (status %d)", status);
		return false;
	}
	return true;
}
