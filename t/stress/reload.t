#!/usr/bin/perl

# nginx -s reload and a binary upgrade (USR2, then QUIT to the old
# master) in the middle of traffic: every request gets its answer, the
# balance affords exactly K tasks and exactly K are accepted across the
# changes of workers, every accepted task settles once, the audit is
# clean.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use POSIX qw(_exit);
use Time::HiRes qw(sleep time);
use Makeclip::Test;
use Makeclip::Load;
use Makeclip::Stress qw(gateway_conf create_requests finish_tasks ledger
                        worker_pids);

my $PRICE = 40;
my $K = 800;

my $t = Makeclip::Test->new(workers => 4);

$t->write_config(gateway_conf(store => 'map_size=16m sync=commit'));
$t->run;

my $key = $t->account('alice', credits => $K * $PRICE);

# creates from a child, about 200 a second, until the balance has run
# out for a while; each answer on a line, with its time
sub load {
    my ($file, $seconds) = @_;

    my $pid = fork // die "fork: $!";
    return $pid if $pid;

    open my $fh, '>', $file or _exit(1);
    my $end = time + $seconds;
    my $n = 0;
    my $poor = 0;

    while (time < $end && $poor < 100) {
        my $res = Makeclip::Load::run(
            port => $t->port, concurrency => 10, timeout => 10,
            requests => create_requests($key, 10,
                                        prompt => sub { 'clip ' . $n++ }));
        for (@$res) {
            printf $fh "%d %s %s %.3f\n", $_->{status},
                   $_->{json} && $_->{json}{id} ? $_->{json}{id} : '-',
                   $_->{error} ? $_->{error} =~ s/\s+/_/gr : '-', time;
            $poor++ if $_->{status} == 402;
        }
        sleep 0.04;
    }

    close $fh;
    _exit(0);
}

sub pidfile {
    my ($name) = @_;
    open my $fh, '<', $t->dir . "/$name" or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

sub alive {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    return (<$fh> // '') !~ /^\d+ \(.*\) Z /;
}

my $child = load($t->dir . '/load', 20);
sleep 0.3;

# reloads: new workers, the old ones finish what they hold
my $fresh = 0;
for (1 .. 4) {
    my %before = map { $_ => 1 } worker_pids($t);
    $t->reload;

    my $end = time + 5;
    sleep 0.05 until grep({ !$before{$_} } worker_pids($t)) || time > $end;

    $fresh++ if grep { !$before{$_} } worker_pids($t);
    sleep 0.3;
}

is($fresh, 4, 'each reload started new workers');

# a binary upgrade: a new master with new workers beside the old, then
# the old master is told to quit
my $old = $t->pid;
kill 'USR2', $old;

my $end = time + 10;
sleep 0.05 until (pidfile('nginx.pid') // $old) != $old || time > $end;
my $new = pidfile('nginx.pid');
isnt($new, $old, 'USR2 started a new master');
ok(-f $t->dir . '/nginx.pid.oldbin', 'the old master kept its pid');

sleep 0.4;
kill 'WINCH', $old;
sleep 0.2;
kill 'QUIT', $old;
my $quit = time;

$end = time + 15;
sleep 0.05 while alive($old) && time < $end;
ok(!alive($old), 'the old master quit');

waitpid $child, 0;

open my $fh, '<', $t->dir . '/load' or die;
my @a = map { [split] } <$fh>;
close $fh;

my @ok = grep { $_->[0] == 200 } @a;
my @poor = grep { $_->[0] == 402 } @a;
my @other = grep { $_->[0] != 200 && $_->[0] != 402 } @a;

ok(@a > $K, scalar(@a) . " creates sent across 4 reloads and an upgrade");

# the balance ran out only after the last change of processes
my ($last_ok) = grep { $_->[0] == 200 } reverse @a;
ok($last_ok->[3] > $quit, sprintf 'accepted creates went on %.1f s after '
                                  . 'the old master was told to quit',
                                  $last_ok->[3] - $quit);
is(scalar @other, 0, 'every create got an answer, 200 or 402')
    or diag(join ', ', map { "$_->[0] $_->[2]" } @other[0 .. ($#other < 4 ? $#other : 4)]);
is(scalar @ok, $K, "exactly $K accepted");

my %ids = map { $_->[1] => 1 } @ok;
is(scalar keys %ids, $K, "$K distinct tasks");

my $final = finish_tasks($t, $key, [keys %ids]);
is(scalar(grep { $_->{status} eq 'completed' } values %$final), $K,
   'all of them completed');

is_deeply([$t->balance('alice')], [0, 0], 'all settled, balance 0');

my $l = ledger($t, 'alice');
my %per;
$per{$_->{task}}{$_->{type}}++ for grep { $_->{task} } @$l;
is(scalar(grep { $_->{reserve} == 1 && ($_->{settle} || 0) == 1 } values %per),
   $K, 'each task reserved once and settled once');
is(scalar keys %per, $K, 'no other reservation');

$t->audit_clean;

diag(sprintf '%d creates, %d accepted, %d refused for the balance',
             scalar @a, scalar @ok, scalar @poor);

$t->stop;
$t->check_log;

done_testing;
