#!/usr/bin/perl

# kill -9 in the middle of creates: first workers one after another (the
# master starts new ones), then the master and every worker at once,
# then a restart.  The books are clean at every step: no reservation
# without its task, no task the client was told about is lost, and once
# every task is polled to its end (a create cut off before the provider
# answered is refunded after makeclip_submit_timeout), everything that
# was reserved has been settled or refunded exactly once.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use POSIX qw(_exit);
use Time::HiRes qw(sleep time);
use Makeclip::Test qw(json_decode);
use Makeclip::Load;
use Makeclip::Stress qw(gateway_conf create_requests finish_tasks ledger
                        worker_pids);

my $PRICE = 40;
my $CREDITS = 1_000_000;
my $sync = $ENV{MAKECLIP_STRESS_SYNC} || 'commit';

my $t = Makeclip::Test->new(workers => 4);
$t->allow_log(qr/exited on signal 9/);
# the slow provider's timeouts are logged as errors, not alerts

# a provider that takes its time: a quarter of the creates wait 700 ms
# for it and fall back to the sandbox, so kills find creates in flight
my $oa = $t->mock('Makeclip::Mock::OpenAI', name => 'oa');
$oa->faults(create => [('timeout') x 5000]);

open my $fh, '>', $t->dir . '/oa.key' or die;
print $fh "test-provider-key\n";
close $fh;

$t->write_config(gateway_conf(
    store => "map_size=16m sync=$sync",
    http => <<'END'));
    makeclip_provider oa adapter=openai url=http://127.0.0.1:%%PORT_oa%%/v1
                      key_file=%%DIR%%/oa.key timeout=700ms;
    makeclip_model slow-video price=10 seconds=4 to=oa:sora-2,sandbox;
END
$t->run;

my $key = $t->account('alice', credits => $CREDITS);

# creates from a child process for a while; each answer on a line
sub load {
    my ($file, $seconds) = @_;

    my $pid = fork // die "fork: $!";
    return $pid if $pid;

    open my $fh, '>', $file or _exit(1);
    my $end = time + $seconds;
    my $n = 0;

    while (time < $end) {
        my $res = Makeclip::Load::run(
            port => $t->port, concurrency => 40, timeout => 5,
            requests => create_requests($key, 40,
                                        prompt => sub { 'clip ' . $n++ },
                                        model => sub {
                                            $_[0] % 4 ? 'sandbox-video'
                                                      : 'slow-video' }));
        for (@$res) {
            printf $fh "%d %s\n", $_->{status},
                   $_->{json} && $_->{json}{id} ? $_->{json}{id} : '-';
        }
    }

    close $fh;
    _exit(0);
}

sub answers {
    my ($file) = @_;
    open my $fh, '<', $file or return ();
    return map { [split] } <$fh>;
}

sub alive {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    return $stat !~ /^\d+ \(.*\) Z /;
}

sub wait_gone {
    my (@pids) = @_;
    my $end = time + 10;
    while (grep { alive($_) } @pids) {
        return 0 if time > $end;
        sleep 0.05;
    }
    return 1;
}

# 1. workers killed one by one during creates
my $child = load($t->dir . '/load1', 3);
sleep 0.3;

my $killed = 0;
for (1 .. 8) {
    my @w = worker_pids($t);
    if (@w) {
        kill 'KILL', $w[rand @w];
        $killed++;
    }
    sleep 0.3;
}

waitpid $child, 0;

my @a1 = answers($t->dir . '/load1');
my @ok1 = grep { $_->[0] == 200 } @a1;
ok(@ok1 > 50, scalar(@ok1) . ' creates accepted while ' . $killed
              . ' workers were killed');
ok(scalar(grep { $_->[0] != 200 && $_->[0] != 0 } @a1) == 0,
   'every answer that came was a 200');

$t->audit_clean('audit clean after workers were killed');

# 2. the master and then every worker, during creates
my $master = $t->pid;
my @workers = worker_pids($t);

$child = load($t->dir . '/load2', 1.5);
sleep 0.4;

kill 'KILL', $master;
sleep 0.3;
kill 'KILL', @workers;

ok(wait_gone($master, @workers), 'master and workers are gone');
waitpid $child, 0;

my @a2 = answers($t->dir . '/load2');
my @ok2 = grep { $_->[0] == 200 } @a2;
ok(@ok2 > 0, scalar(@ok2) . ' creates accepted before everything died');

$t->audit_clean('audit clean after kill -9 of everything');

# 3. restart, then every task to its end
$t->{running} = 0;
$t->run;

$t->audit_clean('audit clean after the restart');

my @ids;
my $after = '';
while (1) {
    my $r = $t->get("/admin/accounts/alice/tasks?limit=100&order=asc"
                    . ($after ? "&after=$after" : ''),
                    port => $t->port,
                    headers => { Authorization => 'Bearer stress-admin-token' });
    last unless $r->{status} == 200;
    push @ids, map { $_->{id} } @{ $r->{json}{data} };
    last unless $r->{json}{has_more};
    $after = $r->{json}{last_id};
}

my %stored = map { $_ => 1 } @ids;
my @lost = grep { !$stored{$_->[1]} } @ok1, @ok2;
ok(!@lost, 'every task a client was told about is in the store')
    or diag(scalar(@lost) . " lost, e.g. $lost[0][1]");

my $l = ledger($t, 'alice');
my %per;
$per{$_->{task}}{$_->{type}}++ for grep { $_->{task} } @$l;

is(scalar(grep { ($_->{reserve} || 0) != 1 } values %per), 0,
   'every task reserved exactly once');
is_deeply([sort keys %per], [sort @ids],
          'the reservations are exactly the stored tasks');

my $final = finish_tasks($t, $key, \@ids, timeout => 30);
is(scalar keys %$final, scalar @ids, 'every task ended');

my $lostsub = grep { ($_->{error}{code} || '') eq 'submit_lost' }
              values %$final;
my $done = grep { $_->{status} eq 'completed' } values %$final;

ok($lostsub > 0, "the kills caught $lostsub creates in flight, refunded "
                . 'after the submit timeout');

is_deeply([$t->balance('alice')], [$CREDITS - $PRICE * $done, 0],
          'balance = credits - the completed tasks, nothing reserved');

$l = ledger($t, 'alice');
%per = ();
$per{$_->{task}}{$_->{type}}++ for grep { $_->{task} } @$l;
is(scalar(grep { ($_->{reserve} || 0) == 1
                 && (($_->{settle} || 0) + ($_->{refund} || 0)) == 1 }
           values %per),
   scalar @ids, 'each settled or refunded exactly once');

$t->audit_clean('audit clean at the end');

diag(sprintf '%d tasks, %d completed, %d refunded as lost submissions; '
             . '%d workers killed', scalar @ids, $done, $lostsub, $killed);

$t->stop;
$t->check_log;

done_testing;
