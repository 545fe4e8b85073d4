#!/usr/bin/perl
# manexamples.pl PAGE DIR: turn the EXAMPLES section of an mdoc page into
# shell scripts, one per example, for tests/t/t0013-man-examples.sh.
#
# The convention of the pages (man/*.1, man/*.5):
#   - An example is a `.Bd -literal` block or a `.Dl` line of the EXAMPLES
#     section. Every example runs, in page order, unless marked.
#   - Where a line of an example starts with "$ ", the example shows a session:
#     the "$ " lines are commands and the lines after one are its output (not
#     run); "$ echo $?" followed by a number N says the command before it
#     exits N. Without "$ " every line is a command. A line ending in \e
#     (a backslash) continues on the next.
#   - Every command must exit 0 (or the N shown), and print the output shown
#     after it ("..." for any text; see match below); a command in the
#     background is not compared. A command ending in "&" is
#     followed by a pause until it writes its first line on standard error
#     (fota ecu and fota serve say they are ready), as a person would wait.
#   - A roff comment `.\" example: WORD ...` just before an example marks it:
#       skip REASON     not run (real hardware, a vendor library, output only)
#       setup FIXTURE.. the world it needs first (the test's fixtures: ecu,
#                       ecu29, tcu, offer, approved, oem, selftest), fresh
#                       for it
#       daemon          a long-running command: it must still run after one
#                       second, then it is stopped
#       file NAME       the example is the text of examples/NAME (compared,
#                       comment lines aside)
#       config ECU      the example is a configuration: `fota flash --dry-run
#                       -c FILE -e ECU app.hex` must accept it
#       unchecked-output REASON  the output shown is not compared
#
# The commands are rewritten for the test ($EX_TMP, $EX_BUS from the
# environment): /tmp/ becomes $EX_TMP/ (a scratch directory), the interface
# names can0, can1 and vcan0 become $EX_BUS, /etc/fota/fota.yaml becomes
# fota.yaml (the example configuration, in the working directory).
#
# Writes DIR/N.sh (a bash script), DIR/N.file or DIR/N.config (the text) and prints one
# line per example: "N<TAB>LINE<TAB>KIND<TAB>ARGS" with KIND run, daemon,
# file, config or skip.
use strict;
use warnings;

if (@ARGV == 4 && $ARGV[0] eq '--match') {
	exit match(@ARGV[1 .. 3]);
}
my ($page, $dir) = @ARGV;
die "usage: manexamples.pl PAGE DIR\n" unless defined $dir;
my $tmp = $ENV{EX_TMP} // '/tmp';
my $bus = $ENV{EX_BUS} // 'can0';

open(my $in, '<', $page) or die "$page: $!\n";
my @src = <$in>;
close $in;
chomp @src;

sub unescape
{
	my ($s, $where) = @_;
	$s =~ s/\\e/\x01/g;
	$s =~ s/\\&//g;
	$s =~ s/\\-/-/g;
	$s =~ s/\\\(aq/'/g;
	$s =~ s/\\\(dq/"/g;
	die "$where: roff escape this script does not know: $s\n" if $s =~ /\\/;
	$s =~ s/\x01/\\/g;
	return $s;
}

sub rewrite_out
{
	my ($s) = @_;
	$s =~ s{(?<![\w/.-])/tmp/}{$tmp/}g;
	return $s;
}

sub rewrite
{
	my ($s) = @_;
	$s =~ s{/etc/fota/fota\.yaml}{fota.yaml}g;
	$s =~ s{(?<![\w/.-])/tmp/}{$tmp/}g;
	$s =~ s{(?<![\w:/.-])(?:v?can[01])(?![\w.-])}{$bus}g;
	return $s;
}

# --match WANT OUT WHERE: every line of WANT (output a page shows) is in OUT
# (what the command printed): "..." stands for any text, a run of blanks
# for any blanks; a line of just "..." for any lines.
sub match
{
	my ($want, $out, $where) = @_;
	open(my $o, '<', $out) or die "$out: $!\n";
	my @got = <$o>;
	close $o;
	open(my $w, '<', $want) or die "$want: $!\n";
	my $bad = 0;
	while (my $l = <$w>) {
		$l =~ s/^\s+|\s+$//g;
		next if $l eq '...' || $l eq '';
		my $re = join('.*', map { join('\s+', map { quotemeta } split(/\s+/, $_, -1)) }
			split(/\.\.\./, $l, -1));
		next if grep { /$re/ } @got;
		print STDERR "$where: the page shows \"$l\"; the command did not print it\n";
		$bad = 1;
	}
	return $bad;
}

sub shq
{
	my ($s) = @_;
	$s =~ s/'/'\\''/g;
	return "'$s'";
}

# Commands of an example as [line, text, expected exit] triples.
sub commands
{
	my ($lines) = @_;    # [line number, text]
	my $prompt = grep { $_->[1] =~ /^\$ / } @$lines;
	my (@cmds, $cur, $cont);
	my $out = 0;
	for my $l (@$lines) {
		my ($n, $t) = @$l;
		if ($cont) {
			$cur->[1] .= "\n$t";
		} elsif (!$prompt || $t =~ s/^\$ //) {
			if ($prompt && $t eq 'echo $?') {
				die "$page:$n: echo \$? without a command before it\n" unless @cmds;
				$cur = undef;
				$out = 'status';
				next;
			}
			$cur = [ $n, $t, 0, [] ];
			push @cmds, $cur;
			$out = 0;
		} else {
			# output of the command before
			if ($out eq 'status') {
				die "$page:$n: echo \$? shows no number\n" unless $t =~ /^\d+$/;
				$cmds[-1][2] = $t;
				$out = 0;
			} elsif ($cur) {
				push @{ $cur->[3] }, $t;
			}
			next;
		}
		$cont = $t =~ /\\$/;
	}
	return @cmds;
}

my ($in_ex, $count) = (0, 0);
my @marks;
for (my $i = 0; $i < @src; $i++) {
	my $l = $src[$i];
	my $n = $i + 1;
	if ($l =~ /^\.Sh\s+(.*)/) {
		$in_ex = $1 eq 'EXAMPLES';
		next;
	}
	next unless $in_ex;
	if ($l =~ /^\.\\"\s*example:\s*([\w-]+)\s*(.*)$/) {
		my ($k, $a) = ($1, $2);
		die "$page:$n: unknown example mark '$k'\n"
			unless $k =~ /^(skip|setup|daemon|file|config|unchecked-output)$/;
		push @marks, [ $k, $a ];
		next;
	}
	my @lines;
	if ($l =~ /^\.Dl\s+(.*)$/) {
		@lines = ([ $n, unescape($1, "$page:$n") ]);
	} elsif ($l =~ /^\.Bd\s+-literal/) {
		for ($i++; $i < @src && $src[$i] !~ /^\.Ed\b/; $i++) {
			next if $src[$i] =~ /^\.\\"/;
			die "$page:" . ($i + 1) . ": a macro inside an example block\n" if $src[$i] =~ /^\./;
			push @lines, [ $i + 1, unescape($src[$i], "$page:" . ($i + 1)) ];
		}
	} elsif ($l =~ /^\.(Bd|Dl|D1)\b/) {
		die "$page:$n: an example that is not .Bd -literal or .Dl\n";
	} else {
		die "$page:$n: an example mark must come just before its example\n" if @marks;
		next;
	}
	$count++;
	my %m = map { $_->[0] => $_->[1] } @marks;
	@marks = ();
	if (exists $m{skip}) {
		die "$page:$n: skip without a reason\n" if $m{skip} eq '';
		print "$count\t$n\tskip\t$m{skip}\n";
		next;
	}
	for my $k ('file', 'config') {
		next unless exists $m{$k};
		die "$page:$n: $k without a name\n" if $m{$k} eq '';
		open(my $f, '>', "$dir/$count.$k") or die "$dir/$count.$k: $!\n";
		print $f map { "$_->[1]\n" } @lines;
		close $f;
		print "$count\t$n\t$k\t$m{$k}\n";
	}
	next if exists $m{file} || exists $m{config};
	my @cmds = commands(\@lines);
	die "$page:$n: an example without a command\n" unless @cmds;
	my $kind = exists $m{daemon} ? 'daemon' : 'run';
	die "$page:$n: a daemon example has one command\n" if $kind eq 'daemon' && @cmds != 1;
	open(my $f, '>', "$dir/$count.sh") or die "$dir/$count.sh: $!\n";
	print $f "# $page:$n\n";
	print $f "ex_fail=0\n";
	print $f "ex_check() { [ \"\$1\" -eq \"\$2\" ] || { echo \"$page:\$3: exited \$1, expected \$2\" >&2; ex_fail=1; }; }\n";
	print $f "rm -f .ex-bg*\n";
	print $f "trap 'kill \$(jobs -p) 2>/dev/null; wait; cat .ex-bg* 2>/dev/null >&2' EXIT\n";
	my $bg = 0;
	for my $c (@cmds) {
		my ($cn, $t, $want) = @$c;
		$t = rewrite($t);
		print $f "echo '\$ '", shq($t), " >&2\n";
		if ($kind eq 'daemon') {
			die "$page:$cn: a daemon must be a simple command\n" if $t =~ /[|;&]/;
			print $f "$t &\n";
			print $f "ex_pid=\$!\nsleep 1\n";
			print $f "if kill -0 \$ex_pid 2>/dev/null; then kill \$ex_pid; wait \$ex_pid; else\n";
			print $f "\twait \$ex_pid; echo \"$page:$cn: ended (exit \$?) instead of running\" >&2; ex_fail=1\nfi\n";
		} elsif ($t =~ /^(.*?)(?<!&)&\s*(?:#.*)?$/s) {
			# In the background (a simple command, so that bash execs it
			# and the kill at the end reaches it): its standard error
			# goes to a file, and
			# the next line waits for its first line there ("listening
			# on", "node 0x27 on": ready), 10 s at most, as a person
			# would; the file is shown at the end.
			die "$page:$cn: a command in the background must be a simple command\n"
				if $1 =~ /[|;]|&&/;
			$bg++;
			print $f "$1 2>.ex-bg$bg &\n";
			print $f "ex_i=0; while [ ! -s .ex-bg$bg ] && [ \$ex_i -lt 100 ]; do sleep 0.1; ex_i=\$((ex_i + 1)); done\n";
		} elsif (@{ $c->[3] } && !exists $m{'unchecked-output'}) {
			print $f "{ $t\n} >.ex-out 2>&1\nex_rc=\$?\ncat .ex-out >&2\n";
			print $f "ex_check \$ex_rc $want $cn\n";
			print $f "cat >.ex-want <<'EX_WANT_EOF'\n", map({ rewrite_out($_) . "\n" } @{ $c->[3] }),
				"EX_WANT_EOF\n";
			print $f "perl \"\$EX_MATCH\" --match .ex-want .ex-out $page:$cn || ex_fail=1\n";
		} else {
			print $f "$t\nex_check \$? $want $cn\n";
		}
	}
	print $f "exit \$ex_fail\n";
	close $f;
	print "$count\t$n\t$kind\t" . ($m{setup} // '') . "\n";
}
die "$page: example marks after the last example\n" if @marks;
