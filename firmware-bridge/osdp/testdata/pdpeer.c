/*
 * pdpeer: a libosdp Peripheral Device on a serial line, driven by the Go
 * tests through its standard input.
 *
 *   pdpeer TTY ADDRESS KEY      KEY: 32 hex digits, or "install" for a
 *                               reader fresh from the factory (SCBK-D)
 *
 * Commands, one a line: "card HEX BITS", "keys DIGITS", "tamper 0|1",
 * "clear" (come back as a reader that offers no Secure Channel).
 * It prints "ready", "led COLOUR", "buzzer", "keyset HEX" and "sc 0|1".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <osdp.h>

static int tty = -1;
static int tamper;
static osdp_t *ctx;
static osdp_pd_info_t info;
static uint8_t key[16];

static int tx(void *data, uint8_t *buf, int len)
{
	(void)data;
	int n = write(tty, buf, len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		return 0;
	}
	return n;
}

static int rx(void *data, uint8_t *buf, int len)
{
	(void)data;
	int n = read(tty, buf, len);
	if (n < 0) {
		return 0;
	}
	return n;
}

static struct osdp_channel channel = { .send = tx, .recv = rx };

static int on_command(void *arg, struct osdp_cmd *cmd)
{
	(void)arg;
	switch (cmd->id) {
	case OSDP_CMD_LED:
		printf("led %d\n", cmd->led.temporary.on_color);
		break;
	case OSDP_CMD_BUZZER:
		printf("buzzer\n");
		break;
	case OSDP_CMD_KEYSET:
		printf("keyset ");
		for (int i = 0; i < cmd->keyset.length; i++) {
			printf("%02x", cmd->keyset.data[i]);
		}
		printf("\n");
		break;
	case OSDP_CMD_STATUS:
		if (cmd->status.type == OSDP_STATUS_REPORT_LOCAL) {
			cmd->status.nr_entries = 2;
			cmd->status.report[0] = tamper;
			cmd->status.report[1] = 0;
		}
		break;
	default:
		break;
	}
	fflush(stdout);
	return 0;
}

static struct osdp_pd_cap caps[] = {
	{ OSDP_PD_CAP_READER_LED_CONTROL, 1, 1 },
	{ OSDP_PD_CAP_READER_AUDIBLE_OUTPUT, 1, 1 },
	{ OSDP_PD_CAP_READERS, 0, 1 },
	{ (uint8_t)-1, 0, 0 },
};

static struct osdp_pd_cap no_security[] = {
	{ OSDP_PD_CAP_COMMUNICATION_SECURITY, 0, 0 },
	{ (uint8_t)-1, 0, 0 },
};

static int start(int keyed)
{
	info.scbk = keyed ? key : NULL;
	ctx = osdp_pd_setup(&channel, &info);
	if (!ctx) {
		return -1;
	}
	osdp_pd_set_command_callback(ctx, on_command, NULL);
	return 0;
}

static void hexbytes(const char *s, uint8_t *out, int max, int *n)
{
	*n = 0;
	while (s[0] && s[1] && *n < max) {
		unsigned v;
		sscanf(s, "%2x", &v);
		out[(*n)++] = v;
		s += 2;
	}
}

static void submit(struct osdp_event *ev)
{
	if (osdp_pd_submit_event(ctx, ev)) {
		printf("error submit\n");
		fflush(stdout);
	}
}

static void do_line(char *line)
{
	struct osdp_event ev;
	char arg[256];
	int bits, n;

	memset(&ev, 0, sizeof(ev));
	if (sscanf(line, "card %255s %d", arg, &bits) == 2) {
		ev.type = OSDP_EVENT_CARDREAD;
		ev.cardread.format = OSDP_CARD_FMT_RAW_WIEGAND;
		ev.cardread.length = bits;
		hexbytes(arg, ev.cardread.data, sizeof(ev.cardread.data), &n);
		submit(&ev);
	} else if (sscanf(line, "keys %255s", arg) == 1) {
		ev.type = OSDP_EVENT_KEYPRESS;
		ev.keypress.length = strlen(arg);
		memcpy(ev.keypress.data, arg, ev.keypress.length);
		submit(&ev);
	} else if (sscanf(line, "tamper %d", &tamper) == 1) {
		ev.type = OSDP_EVENT_STATUS;
		ev.status.type = OSDP_STATUS_REPORT_LOCAL;
		ev.status.nr_entries = 2;
		ev.status.report[0] = tamper;
		submit(&ev);
	} else if (strncmp(line, "clear", 5) == 0) {
		/* The same reader, restarted without Secure Channel: what a
		 * swapped or tampered reader would look like. */
		osdp_pd_teardown(ctx);
		start(0);
		osdp_pd_set_capabilities(ctx, no_security);
		printf("cleared\n");
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	struct termios t;
	char buf[512];
	size_t have = 0;
	int keyed = 0, n;

	if (argc != 4) {
		fprintf(stderr, "usage: %s TTY ADDRESS KEY|install\n", argv[0]);
		return 2;
	}
	tty = open(argv[1], O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (tty < 0 || tcgetattr(tty, &t)) {
		perror(argv[1]);
		return 1;
	}
	cfmakeraw(&t);
	tcsetattr(tty, TCSANOW, &t);
	if (strcmp(argv[3], "install") != 0) {
		hexbytes(argv[3], key, 16, &n);
		if (n != 16) {
			fprintf(stderr, "key: want 32 hex digits\n");
			return 2;
		}
		keyed = 1;
	}
	osdp_logger_init("pdpeer", OSDP_LOG_WARNING, NULL);
	info.name = "pdpeer";
	info.baud_rate = 115200;
	info.address = atoi(argv[2]);
	info.id.vendor_code = 0xA1B2C3;
	info.id.model = 1;
	info.id.version = 1;
	info.id.serial_number = 0x5EC15E0;
	info.id.firmware_version = 0x010203;
	info.cap = caps;
	if (start(keyed)) {
		fprintf(stderr, "pd setup failed\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd fds[2] = { { 0, POLLIN, 0 }, { tty, POLLIN, 0 } };
		poll(fds, 2, 2);
		if (fds[0].revents & (POLLIN | POLLHUP)) {
			n = read(0, buf + have, sizeof(buf) - 1 - have);
			if (n <= 0) {
				return 0; /* the test ended */
			}
			have += n;
			buf[have] = 0;
			char *nl;
			while ((nl = strchr(buf, '\n'))) {
				*nl = 0;
				do_line(buf);
				have -= nl + 1 - buf;
				memmove(buf, nl + 1, have + 1);
			}
		}
		osdp_pd_refresh(ctx);
	}
}
