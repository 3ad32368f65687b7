#!/usr/bin/perl

# A store whose map fills up (map_size=1m): new creates get 503
# store_full and are charged nothing, the tasks already running still
# settle (the store keeps room for them), the failure is logged once with
# what to do, and the audit stays clean.  Then the map grows while nginx
# runs: by "makeclip resize", and by itself up to max_map_size=.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Makeclip::Test;
use Makeclip::Load;
use Makeclip::Stress qw(gateway_conf create_requests finish_tasks ledger
                        tally_text);

my $PRICE = 40;
my $CREDITS = 1_000_000;

# creates in batches until the first 503, or max of them
sub fill {
    my ($t, $key, $max, $stop) = @_;
    my @all;
    while (@all < $max) {
        my $res = Makeclip::Load::run(port => $t->port, concurrency => 25,
                                      requests => create_requests($key, 50));
        push @all, @$res;
        last if $stop && grep { $_->{status} == 503 } @$res;
    }
    return \@all;
}

my $t = Makeclip::Test->new(workers => 2);
$t->allow_log(qr/makeclip store is full/);

$t->write_config(gateway_conf(store => 'map_size=1m sync=interval'));
$t->run;

my $key = $t->account('alice', credits => $CREDITS);

my $res = fill($t, $key, 3000, 1);

my @ok = grep { $_->{status} == 200 } @$res;
my @full = grep { $_->{status} == 503 } @$res;

ok(@ok > 100, scalar(@ok) . ' creates fit in a 1m map');
ok(@full > 0, 'then creates get 503') or diag(tally_text($res));
is(scalar(grep { $_->{status} != 200 && $_->{status} != 503 } @$res), 0,
   'no other answer');
is(scalar(grep { ($_->{json}{error}{code} || '') eq 'store_full' } @full),
   scalar @full, '503 says store_full');
like($full[0]{json}{error}{message}, qr/nothing was charged/,
     'and that nothing was charged');

# more of the same while full: refused, and still nothing charged
my $again = Makeclip::Load::run(port => $t->port, concurrency => 10,
                                requests => create_requests($key, 20));
is(scalar(grep { $_->{status} == 503 } @$again), 20,
   'a full store goes on refusing');

my $l = ledger($t, 'alice');
is(scalar(grep { $_->{type} eq 'reserve' } @$l), scalar @ok,
   'a reservation for each 200, none for a 503');

# the running tasks settle in the room the store kept for them
my $final = finish_tasks($t, $key, [map { $_->{json}{id} } @ok],
                         timeout => 30);
is(scalar(grep { $_->{status} eq 'completed' } values %$final), scalar @ok,
   'every accepted task completes in the full store');

is_deeply([$t->balance('alice')], [$CREDITS - $PRICE * @ok, 0],
          'each settled: balance = credits - the accepted tasks');

$t->audit_clean('audit clean with a full map');

my @crit = $t->errors(qr/\[crit\].*makeclip store is full/);
ok(@crit >= 1 && @crit <= 2, scalar(@crit) . ' log line(s) for '
   . (@full + 20) . ' refusals: once per worker');
like($crit[0] // '', qr/max_map_size=.*makeclip resize/,
     'the log line says what to do');

# makeclip resize while nginx runs: the workers take the new size
my ($out, $rc) = $t->cli('resize', '4m');
is($rc, 0, 'makeclip resize 4m') or diag($out);

$res = Makeclip::Load::run(port => $t->port, concurrency => 10,
                           requests => create_requests($key, 20));
is(scalar(grep { $_->{status} == 200 } @$res), 20,
   'after the resize, creates are accepted again')
    or diag(tally_text($res));

$t->audit_clean('audit clean after the resize');

$t->stop;
$t->check_log;

# a map that grows by itself, up to max_map_size=
my $g = Makeclip::Test->new(workers => 2);
$g->write_config(gateway_conf(store => 'map_size=1m max_map_size=8m '
                                       . 'sync=interval'));
$g->run;

$key = $g->account('alice', credits => $CREDITS);

$res = fill($g, $key, scalar(@ok) + 300, 0);
is(scalar(grep { $_->{status} == 200 } @$res), scalar @$res,
   scalar(@$res) . ' creates, more than a 1m map holds, all accepted')
    or diag(tally_text($res));

ok(scalar($g->errors(qr/\[notice\].*the map grew from 1024k/)),
   'the growth is logged');

my $s = $g->get('/admin/stats', headers => {
    Authorization => 'Bearer stress-admin-token' });
ok($s->{json}{store}{map_size} > 1024 * 1024,
   "the map is $s->{json}{store}{map_size} bytes now");

$g->audit_clean('audit clean after growing');

$g->stop;
$g->check_log;

done_testing;
