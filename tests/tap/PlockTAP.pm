package PlockTAP;

# prove's console formatter, plus what a reader of a long CI log needs at
# its end: every failing test point with its own output, once, right before
# prove's closing lines.  Use: PERL5LIB=tests/tap prove --merge --formatter PlockTAP
#
# A test point's output is the lines its program printed since the previous
# point ("# " diagnostics, and with --merge its stderr); output after the
# last point belongs to the program's exit.  Each program's TAP is kept in
# $PLOCK_TAP_LOG/NAME.tap.  A "# SKIP" is listed too, and is an error when
# PLOCK_NO_SKIP=1 (CI runs as root, where nothing may skip).
#
# With prove -j (make test runs the VMs beside the host's jobs), each
# program's line, "[time] name .... ok", is printed whole when it ends,
# instead of prove's progress rulers, which name no program.

use strict;
use warnings;
use parent 'TAP::Formatter::Console';
use File::Basename qw(dirname);
use File::Path qw(make_path);

my $MAX_LINES = 60;    # of one test point's output
my ( @failures, @skips );

sub open_test {
	my ( $self, $test, $parser ) = @_;
	my $session = $self->jobs > 1
	  ? PlockTAP::Session->new( { name => $test, formatter => $self, parser => $parser, show_count => 0 } )
	  : $self->SUPER::open_test( $test, $parser );
	my ( @out, @failed, $log );
	if ( my $dir = $ENV{PLOCK_TAP_LOG} ) {
		my $path = "$dir/$test.tap";
		make_path( dirname($path) );
		open $log, '>', $path or warn "PlockTAP: $path: $!\n";
	}
	$parser->callback( ALL => sub {
		my $r = shift;
		print $log $r->raw, "\n" if $log;
		if ( $r->is_test ) {
			if ( !$r->is_ok ) {
				push @failed, [ $r->as_string, [@out] ];
			} elsif ( $r->has_skip ) {
				push @skips, "$test: " . $r->as_string;
			}
			@out = ();
		} elsif ( !$r->is_plan ) {
			push @out, $r->raw;
			shift @out if @out > $MAX_LINES;
		}
	} );
	$parser->callback( EOF => sub {
		my $p = shift;
		close $log if $log;
		my $skipped = grep { index( $_, "$test: " ) == 0 } @skips;
		$p->_add_error("$skipped test(s) skipped, and PLOCK_NO_SKIP=1 allows none")
		  if $skipped && $ENV{PLOCK_NO_SKIP};
		push @failures, map { [ "$test: $_->[0]", $_->[1] ] } @failed;
		my @why;
		push @why, "exit status " . $p->exit if $p->exit;
		push @why, "wait status " . $p->wait if $p->wait && !$p->exit;
		push @why, $p->parse_errors;
		push @failures, [ "$test: " . join( '; ', @why ), [@out] ]
		  if @why && ( @out || !@failed );
	} );
	return $session;
}

sub summary {
	my ( $self, $aggregate, $interrupted ) = @_;
	if (@skips) {
		$self->_output("\nSkipped:\n");
		$self->_output("  $_\n") for @skips;
	}
	if (@failures) {
		$self->_output("\nFailed:\n");
		for my $f (@failures) {
			$self->_failure_output("$f->[0]\n");
			$self->_output("    $_\n") for @{ $f->[1] };
		}
	}
	$self->SUPER::summary( $aggregate, $interrupted );
}

# A program's session under prove -j: its header goes out with its result.
package PlockTAP::Session;

use parent 'TAP::Formatter::Console::Session';

# Nothing printed yet, but the name and its time (--timer: the start) are
# fixed now: the parent makes them, lazily, on a session's first call.
sub header {
	my $self = shift;
	$self->{_closures} ||= $self->_closures;
}

sub close_test {
	my $self = shift;
	$self->SUPER::header;
	$self->SUPER::close_test(@_);
}

1;
