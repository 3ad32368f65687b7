#!/usr/bin/perl

# Credits while providers fail at random: creates whose provider call
# fails like a 503 on every target ("[error]": refunded, 502), creates
# the provider rejects ("[reject]": refunded, 400), tasks that fail later
# ("[fail]": refunded when polled), good ones, and a balance too small
# for all of them.  Every refund is exact and happens once, nothing goes
# below zero, and the audit is clean.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Makeclip::Test;
use Makeclip::Load;
use Makeclip::Stress qw(gateway_conf create_requests finish_tasks ledger
                        tally_text);

my $N = 200;
my $PRICE = 40;
my $CREDITS = 60 * $PRICE;

my $seed = $ENV{MAKECLIP_STRESS_SEED} || time;
srand($seed);
diag("seed $seed");

my @kinds = map {
    my $x = rand;
    $x < 0.25 ? 'error' : $x < 0.40 ? 'reject' : $x < 0.60 ? 'fail' : 'ok'
} 1 .. $N;

my $t = Makeclip::Test->new(workers => 4);

$t->write_config(gateway_conf(store => 'map_size=16m sync=commit'));
$t->run;

# the provider failures are logged as errors, as they should be
my $key = $t->account('alice', credits => $CREDITS);

my $res = Makeclip::Load::run(
    port => $t->port, concurrency => 100,
    requests => create_requests($key, $N, prompt => sub {
        my $k = $kinds[$_[0] - 1];
        $k eq 'ok' ? "clip $_[0]" : "clip $_[0] [$k]";
    }));

my %by;
for my $i (0 .. $N - 1) {
    push @{ $by{$kinds[$i]}{$res->[$i]{status}} }, $res->[$i];
}

my @bad = grep { $_->{status} !~ /^(200|400|402|502)$/ } @$res;
ok(!@bad, 'every answer is 200, 400, 402 or 502') or diag(tally_text($res));

ok(!$by{error}{200} && !$by{error}{400},
   '[error] creates are never accepted');
is(scalar(grep { ($_->{json}{error}{code} || '') eq 'provider_unavailable' }
           @{ $by{error}{502} || [] }),
   scalar @{ $by{error}{502} || [] }, '502 says provider_unavailable');
ok(!$by{reject}{200} && !$by{reject}{502}, '[reject] creates are refused');
is(scalar(grep { ($_->{json}{error}{code} || '') eq 'provider_rejected' }
           @{ $by{reject}{400} || [] }),
   scalar @{ $by{reject}{400} || [] }, '400 says provider_rejected');

my @accepted = grep { $_->{status} == 200 } @$res;
my $attempted = grep { $_->{status} =~ /^(200|400|502)$/ } @$res;
ok(@accepted <= $CREDITS / $PRICE, 'never more accepted than the balance '
                                   . 'affords');
ok(scalar(grep { $_->{status} == 402 } @$res) > 0,
   'some creates found the balance short');

my ($bal, $resv) = $t->balance('alice');
ok($bal >= 0, "the balance did not go below zero ($bal)");
is($resv, $PRICE * @accepted, 'only accepted tasks hold credits');

my $final = finish_tasks($t, $key, [map { $_->{json}{id} } @accepted]);
is(scalar keys %$final, scalar @accepted, 'every accepted task ended');

my ($done, $wrong) = (0, 0);
for my $i (0 .. $N - 1) {
    next unless $res->[$i]{status} == 200;
    my $f = $final->{$res->[$i]{json}{id}} or next;
    $done++ if $f->{status} eq 'completed';
    $wrong++ if ($f->{status} eq 'failed') != ($kinds[$i] eq 'fail');
}

is($wrong, 0, 'the [fail] tasks failed, the others completed');

is_deeply([$t->balance('alice')], [$CREDITS - $PRICE * $done, 0],
          'balance = credits - the price of the completed tasks');

my $l = ledger($t, 'alice');
my %per;
$per{$_->{task}}{$_->{type}}++ for grep { $_->{task} } @$l;

is(scalar keys %per, $attempted,
   'a reservation for every create that reached a provider, none for 402');
is(scalar(grep { ($_->{reserve} || 0) == 1
                 && (($_->{settle} || 0) + ($_->{refund} || 0)) == 1 }
           values %per),
   $attempted, 'each reserved once, then settled or refunded exactly once');
is(scalar(grep { $_->{settle} } values %per), $done,
   'settled: the completed tasks');
is(scalar(grep { $_->{refund} } values %per), $attempted - $done,
   'refunded: everything else');

$t->audit_clean;

diag(sprintf 'ok %d, error %d, reject %d, fail %d; answers: %s',
     scalar(grep { $_ eq 'ok' } @kinds), scalar(grep { $_ eq 'error' } @kinds),
     scalar(grep { $_ eq 'reject' } @kinds),
     scalar(grep { $_ eq 'fail' } @kinds), tally_text($res));

$t->stop;
$t->check_log;

done_testing;
