#!/usr/bin/perl
# manquotes.pl PAGE: check the quotes of one mdoc page as mandoc renders it.
# mandoc -Tlint accepts what renders wrong here: Ql, Sq, Dq and Qq enclose
# everything up to the end of their macro line, so `.Pq Ql a , Ql b` prints
# (‘a, ‘b’’) and `.Ql x No text` puts "text" inside the quotes. Checked:
#   - the rendered text (mandoc -Tutf8): every ‘ and “ closed by its own ’ or
#     ” before another quote opens (no nesting, nothing unbalanced);
#   - the source: no No macro inside a quoting macro's line (its text would
#     be quoted).
# Prints one line per problem (PAGE:LINE: ...) and exits 1 if there was any.
use strict;
use warnings;

my $page = shift or die "usage: manquotes.pl PAGE\n";
my $bad = 0;

open(my $src, '<', $page) or die "$page: $!\n";
while (my $l = <$src>) {
	next unless $l =~ /^\./;
	my @w = split ' ', $l;
	my $quoting = 0;
	for my $w (@w) {
		if ($w =~ /^\.?(Ql|Sq|Dq|Qq)$/) {
			$quoting = 1;
		} elsif ($quoting && $w eq 'No') {
			print "$page:$.: No inside a quoting macro: the text after it is quoted too\n";
			$bad = 1;
			last;
		}
	}
}
close $src;

open(my $r, '-|', 'mandoc', '-Tutf8', $page) or die "mandoc: $!\n";
binmode $r, ':encoding(UTF-8)';
binmode STDOUT, ':encoding(UTF-8)';
my %close = ("\x{2018}" => "\x{2019}", "\x{201C}" => "\x{201D}");
my ($open, $at) = ('', 0);
while (my $l = <$r>) {
	$l =~ s/.\x08//g;    # bold and underline overstrikes
	for my $c (split //, $l) {
		if (exists $close{$c}) {
			if ($open ne '') {
				print "$page: rendered line $.: quote $c opens inside the quote opened on line $at\n";
				$bad = 1;
			}
			($open, $at) = ($c, $.);
		} elsif ($c eq "\x{2019}" || $c eq "\x{201D}") {
			if ($open eq '' || $close{$open} ne $c) {
				print "$page: rendered line $.: unbalanced $c\n";
				$bad = 1;
			} else {
				$open = '';
			}
		}
	}
}
close $r or die "$page: mandoc failed\n";
if ($open ne '') {
	print "$page: rendered line $at: quote $open never closed\n";
	$bad = 1;
}
exit $bad;
