#!/usr/bin/perl

# What the store costs: bytes per task with its two ledger entries and
# its index keys, bytes per ledger entry alone, in compacted backups
# (the data itself) and in map used (the data plus the pages LMDB keeps
# free for reuse), measured on a live gateway.  The figures go in
# docs/operations.md; the bounds here catch a layout that bloats.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Makeclip::Test qw(json_decode);
use Makeclip::Load;
use Makeclip::Stress qw(gateway_conf create_requests finish_tasks);

my $N = 1000;

my $t = Makeclip::Test->new(workers => 2);
$t->write_config(gateway_conf(store => 'map_size=64m sync=off'));
$t->run;

my $key = $t->account('alice', credits => 1_000_000);

sub used { json_decode(scalar $t->cli('stats'))->{map_used} }

my $nb = 0;
sub backup {
    my $dir = $t->dir . '/backup' . $nb++;
    my ($out, $rc) = $t->cli('backup', $dir);
    die "backup: $out" if $rc;
    return -s "$dir/data.mdb";
}

my ($u0, $b0) = (used(), backup());

my $res = Makeclip::Load::run(port => $t->port, concurrency => 50,
                              requests => create_requests($key, $N),
                              timeout => 60);
my @ids = map { $_->{json}{id} } grep { $_->{status} == 200 } @$res;
is(scalar @ids, $N, "$N tasks");

my $final = finish_tasks($t, $key, \@ids, timeout => 60);
is(scalar keys %$final, $N, 'all finished');

my ($u1, $b1) = (used(), backup());

# a ledger entry alone: grants through the admin API
$res = Makeclip::Load::run(
    port => $t->port, concurrency => 20,
    requests => [ map { { method => 'POST',
                          path => '/admin/accounts/alice/grant',
                          key => 'stress-admin-token',
                          body => { amount => 1, reason => "sizing $_" } } }
                  1 .. $N ]);
is(scalar(grep { $_->{status} == 200 } @$res), $N, "$N grants");

my ($u2, $b2) = (used(), backup());

my $task = ($b1 - $b0) / $N;
my $task_map = ($u1 - $u0) / $N;
my $entry = ($b2 - $b1) / $N;

ok($task < 2048, sprintf 'a finished task: %.0f bytes of data', $task);
ok($task_map < 8192, sprintf 'and %.0f bytes of map', $task_map);
ok($entry > 0 && $entry < 512, sprintf 'a ledger entry: %.0f bytes',
                                       $entry);

diag(sprintf 'a finished task with its 2 ledger entries and index keys: '
             . '%.0f bytes of data, %.0f bytes of map used; a ledger entry '
             . 'alone: %.0f bytes', $task, $task_map, $entry);

$t->stop;
$t->check_log;

done_testing;
