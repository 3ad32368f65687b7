package Makeclip::Stress;

# Helpers for the credit stress tests (t/stress/): a sandbox gateway with
# several workers, batches of concurrent creates, polling every task to
# its end, and the books read back through the makeclip CLI.

use strict;
use warnings;

use Exporter qw(import);
use Time::HiRes qw(sleep time);
use Makeclip::Test qw(json_decode);
use Makeclip::Load;

our @EXPORT_OK = qw(gateway_conf create_requests finish_tasks ledger
                    worker_pids served_pids master_pid tally_text);

# the http{} block of a sandbox gateway: 4 s videos at 10 credits a
# second (40 each), an admin location, pids in the access log
sub gateway_conf {
    my (%o) = @_;

    my $store = $o{store} // 'map_size=16m';
    my $queue = $o{queue} // '300ms';
    my $run = $o{run} // '300ms';
    my $extra = $o{api} // '';
    my $http = $o{http} // '';

    return <<"END";
    makeclip_store %%DIR%%/store $store;
    makeclip_provider sandbox adapter=sandbox queue=$queue run=$run
                      video=%%ROOT%%/conf/sandbox.mp4;
    makeclip_provider backup adapter=sandbox queue=$queue run=$run
                      video=%%ROOT%%/conf/sandbox.mp4;
    makeclip_model sandbox-video price=10 seconds=4 to=sandbox,backup;
    makeclip_plan pro models=*;
$http
    log_format stress '\$pid \$status \$request_uri';

    server {
        listen 127.0.0.1:%%PORT%%;
        access_log %%DIR%%/logs/stress.log stress;

        location /v1/ {
            makeclip_api;
            makeclip_poll_interval 0;
            makeclip_submit_timeout 1s;
$extra
        }

        location /admin/ {
            makeclip_admin;
            makeclip_admin_token stress-admin-token;
        }

        include %%ROOT%%/conf/makeclip_proxy.conf;
    }
END
}

# n creates of one 40-credit video; prompts from a sub when given
sub create_requests {
    my ($key, $n, %o) = @_;

    return [ map {
        my $i = $_;
        { method => 'POST', path => '/v1/videos', key => $key,
          headers => $o{headers} ? $o{headers}->($i) : {},
          body => { model => $o{model} ? $o{model}->($i) : 'sandbox-video',
                    seconds => '4',
                    prompt => $o{prompt} ? $o{prompt}->($i) : "clip $i" } }
    } 1 .. $n ];
}

# polls every task until it is completed or failed; returns id -> task
sub finish_tasks {
    my ($t, $key, $ids, %o) = @_;

    my %final;
    my @left = @$ids;
    my $end = time + ($o{timeout} || 20);

    while (@left && time < $end) {
        my $res = Makeclip::Load::run(
            port => $t->port, concurrency => 50,
            requests => [ map { { path => "/v1/videos/$_", key => $key } }
                          @left ]);

        my @again;

        for my $i (0 .. $#left) {
            my $j = $res->[$i]{json};

            if ($res->[$i]{status} == 200 && $j
                && ($j->{status} || '') =~ /^(completed|failed)$/)
            {
                $final{$left[$i]} = $j;

            } else {
                push @again, $left[$i];
            }
        }

        @left = @again;
        sleep 0.2 if @left;
    }

    return \%final;
}

# the ledger of an account (or all), oldest first, through the CLI
sub ledger {
    my ($t, $account) = @_;

    my ($out, $rc) = $t->cli('ledger', defined $account ? ($account) : ());
    die "ledger: $out" if $rc;

    return [ map { json_decode($_) } grep { /^\{/ } split /\n/, $out ];
}

sub master_pid {
    my ($t) = @_;
    return $t->pid;
}

# the master's children, from /proc
sub worker_pids {
    my ($t, $master) = @_;

    $master //= $t->pid or return ();
    my @pids;

    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        my ($pid, $ppid) = $line =~ /^(\d+) \(.*\) \S+ (\d+)/ or next;
        push @pids, $pid if $ppid == $master;
    }

    return @pids;
}

# the worker pids that answered creates, from the access log
sub served_pids {
    my ($t) = @_;

    open my $fh, '<', $t->dir . '/logs/stress.log' or return ();
    my %pids;
    while (<$fh>) {
        $pids{$1}++ if m{^(\d+) \d+ /v1/videos$};
    }

    return keys %pids;
}

sub tally_text {
    my ($res) = @_;
    my $n = Makeclip::Load::tally($res);
    return join ', ', map { "$_: $n->{$_}" } sort keys %$n;
}

1;
