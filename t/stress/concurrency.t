#!/usr/bin/perl

# Credits under concurrency: many creates at once, from many connections,
# across four worker processes, against a balance that affords exactly K
# of them.  Exactly K are accepted and the rest get 402; nothing goes
# below zero; every accepted task settles once; the audit is clean.  Run
# with each durability mode, as sync=commit holds every answer until its
# commits are on disk.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use Makeclip::Test;
use Makeclip::Load;
use Makeclip::Stress qw(gateway_conf create_requests finish_tasks ledger
                        served_pids tally_text);

my $N = $ENV{MAKECLIP_STRESS_N} || 200;      # creates
my $K = $ENV{MAKECLIP_STRESS_K} || 50;       # the balance affords K
my $PRICE = 40;

for my $sync (qw(interval commit)) {
    my $t = Makeclip::Test->new(workers => 4);

    $t->write_config(gateway_conf(store => "map_size=16m sync=$sync"));
    $t->run;

    my $key = $t->account('alice', credits => $K * $PRICE);

    my $t0 = time;
    my $res = Makeclip::Load::run(port => $t->port, concurrency => 100,
                                  requests => create_requests($key, $N));
    my $took = time - $t0;

    my @ok = grep { $_->{status} == 200 } @$res;
    my @poor = grep { $_->{status} == 402 } @$res;

    is(scalar @ok, $K, "$sync: exactly $K of $N creates accepted")
        or diag(tally_text($res));
    is(scalar @poor, $N - $K, "$sync: the other " . ($N - $K) . " get 402");
    is(scalar(grep { ($_->{json}{error}{code} || '') eq 'insufficient_credits' }
               @poor),
       $N - $K, "$sync: each 402 says insufficient_credits");

    my %ids = map { $_->{json}{id} => 1 } @ok;
    is(scalar keys %ids, $K, "$sync: $K distinct tasks");

    is_deeply([$t->balance('alice')], [0, $K * $PRICE],
              "$sync: balance 0, everything reserved");

    my @pids = served_pids($t);
    ok(@pids >= 2, "$sync: creates were served by " . scalar(@pids)
                   . " worker processes");

    my $final = finish_tasks($t, $key, [keys %ids]);
    is(scalar(grep { $_->{status} eq 'completed' } values %$final), $K,
       "$sync: every accepted task completes");

    is_deeply([$t->balance('alice')], [0, 0], "$sync: all settled");

    my $l = ledger($t, 'alice');
    my %n;
    $n{$_->{type}}++ for @$l;
    is($n{reserve}, $K, "$sync: $K reserve entries");
    is($n{settle}, $K, "$sync: $K settle entries");
    ok(!$n{refund}, "$sync: no refunds");

    my %per;
    $per{$_->{task}}{$_->{type}}++ for grep { $_->{task} } @$l;
    is(scalar(grep { $_->{reserve} == 1 && $_->{settle} == 1 } values %per),
       $K, "$sync: each task reserved once and settled once");

    $t->audit_clean("$sync: audit clean");

    # each worker's durability figures, from as many workers as answer
    my $st = Makeclip::Load::run(
        port => $t->port, concurrency => 20,
        requests => [ map { { path => '/admin/stats',
                              key => 'stress-admin-token' } } 1 .. 40 ]);
    my %w = map { $_->{json}{worker}{pid} => $_->{json}{worker} }
            grep { $_->{status} == 200 } @$st;

    my %modes = map { $_->{sync} => 1 } values %w;
    is_deeply([keys %modes], [$sync], "$sync: the workers sync in $sync mode");

    my ($held, $syncs, $max, $group) = (0, 0, 0, 0);
    for (values %w) {
        $held += $_->{responses_held};
        $syncs += $_->{syncs};
        $max = $_->{sync_ms_max} if $_->{sync_ms_max} > $max;
        $group = $_->{group_max} if $_->{group_max} > $group;
    }

    if ($sync eq 'commit') {
        ok($held > 0, "commit: $held answers of " . scalar(keys %w)
                      . ' workers were held for their sync');
    }

    diag(sprintf '%s: %d workers: %d syncs, slowest %d ms, %d answers held, '
                 . 'largest group %d', $sync, scalar keys %w, $syncs, $max,
                 $held, $group);

    diag(sprintf "%s: %d creates in %.2f s (%.0f/s), %d workers answered",
                 $sync, $N, $took, $N / $took, scalar @pids);

    $t->stop;
    $t->check_log;
}

done_testing;
