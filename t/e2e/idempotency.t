#!/usr/bin/perl

# Idempotency-Key on POST /v1/videos: retries of one request, even many
# at once across workers, make one task and one charge; the same key with
# another body is 409; keys belong to an account and expire after
# makeclip_idempotency_ttl; a retry while the first request is still
# talking to the provider gets the task in its current state.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use POSIX qw(_exit);
use Time::HiRes qw(sleep time);
use Makeclip::Test qw(json_decode json_encode);
use Makeclip::Load;

my $t = Makeclip::Test->new(workers => 4);

my $oa = $t->mock('Makeclip::Mock::OpenAI', name => 'oa');

open my $fh, '>', $t->dir . '/oa.key' or die;
print $fh "test-provider-key\n";
close $fh;

$t->write_config(<<'END' . $t->api_server('makeclip_idempotency_ttl 2s;'));
    makeclip_store %%DIR%%/store map_size=16m sync=commit;
    makeclip_provider sandbox adapter=sandbox queue=200ms run=200ms
                      video=%%ROOT%%/conf/sandbox.mp4;
    makeclip_provider oa adapter=openai url=http://127.0.0.1:%%PORT_oa%%/v1
                      key_file=%%DIR%%/oa.key timeout=1500ms;
    makeclip_model sandbox-video price=10 seconds=4 to=sandbox;
    makeclip_model sora-2 price=10 seconds=4 to=oa:sora-2;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('alice', credits => 1000);
my $bob = $t->account('bob', credits => 1000);

my $body = { model => 'sandbox-video', prompt => 'a red kite', seconds => '4' };

sub ledger_of {
    my ($account) = @_;
    my ($out) = $t->cli('ledger', $account);
    return [ map { json_decode($_) } grep { /^\{/ } split /\n/, $out ];
}

# 1. fifty identical requests at once, one key: one task, one charge
my $res = Makeclip::Load::run(
    port => $t->port, concurrency => 50,
    requests => [ map { { method => 'POST', path => '/v1/videos', key => $key,
                          headers => { 'Idempotency-Key' => 'retry-1' },
                          body => $body } } 1 .. 50 ]);

is(scalar(grep { $_->{status} == 200 } @$res), 50, 'all 50 retries get 200');
my %ids = map { $_->{json}{id} => 1 } grep { $_->{json} } @$res;
is(scalar keys %ids, 1, 'all 50 name the same task');
my ($id) = keys %ids;

my $l = ledger_of('alice');
is(scalar(grep { $_->{type} eq 'reserve' } @$l), 1, 'one reserve entry');
is_deeply([$t->balance('alice')], [960, 40], 'charged once');

my ($out) = $t->cli('stats');
is(json_decode($out)->{tasks}, 1, 'one task in the store');

# 2. the same key with another body
my $r = $t->post('/v1/videos', key => $key,
                 headers => { 'Idempotency-Key' => 'retry-1' },
                 body => { %$body, prompt => 'a blue kite' });
is($r->{status}, 409, 'another body with the same key is 409');
is($r->{json}{error}{code}, 'idempotency_key_reused', 'idempotency_key_reused');
is($r->{json}{error}{type}, 'conflict_error', 'OpenAI error shape');

# 3. a retry after the end gets the finished task, no new charge
$r = $t->wait_task($id, key => $key);
is($r->{json}{status}, 'completed', 'the task completes');

$r = $t->post('/v1/videos', key => $key,
              headers => { 'Idempotency-Key' => 'retry-1' }, body => $body);
is($r->{status}, 200, 'a late retry is 200');
is($r->{json}{id}, $id, 'with the same task');
is($r->{json}{status}, 'completed', 'in its current state');
is_deeply([$t->balance('alice')], [960, 0], 'and no second charge');

# 4. keys are per account
$r = $t->post('/v1/videos', key => $bob,
              headers => { 'Idempotency-Key' => 'retry-1' }, body => $body);
is($r->{status}, 200, 'another account may use the same key');
isnt($r->{json}{id}, $id, 'for its own task');
is_deeply([$t->balance('bob')], [960, 40], 'charged to that account');

# 5. a key expires after makeclip_idempotency_ttl (2s here)
$r = $t->post('/v1/videos', key => $key,
              headers => { 'Idempotency-Key' => 'ttl-1' }, body => $body);
my $first = $r->{json}{id};
sleep 2.2;
$r = $t->post('/v1/videos', key => $key,
              headers => { 'Idempotency-Key' => 'ttl-1' }, body => $body);
is($r->{status}, 200, 'after the ttl the key is free again');
isnt($r->{json}{id}, $first, 'and makes a new task');
$l = ledger_of('alice');
is(scalar(grep { $_->{type} eq 'reserve' } @$l), 3,
   'a new charge for the new task');

# 6. too poor: 402 remembers nothing; after a grant the key works
my $carol = $t->account('carol', credits => 10);
$r = $t->post('/v1/videos', key => $carol,
              headers => { 'Idempotency-Key' => 'poor-1' }, body => $body);
is($r->{status}, 402, '402 with a key');
$t->cli('grant', 'carol', 100, '--reason', 'test');
$r = $t->post('/v1/videos', key => $carol,
              headers => { 'Idempotency-Key' => 'poor-1' }, body => $body);
is($r->{status}, 200, 'the same key succeeds once the balance allows');

# 7. a retry while the first request still waits for the provider
$oa->faults(create => ['timeout']);
my $slow = { model => 'sora-2', prompt => 'a slow kite', seconds => '4' };

my $pid = fork // die;
if (!$pid) {
    my $r1 = $t->post('/v1/videos', key => $key, timeout => 10,
                      headers => { 'Idempotency-Key' => 'slow-1' },
                      body => $slow);
    open my $o, '>', $t->dir . '/first' or _exit(1);
    print $o json_encode({ status => $r1->{status}, json => $r1->{json} });
    close $o;
    _exit(0);
}

sleep 0.5;
my $t0 = time;
$r = $t->post('/v1/videos', key => $key,
              headers => { 'Idempotency-Key' => 'slow-1' }, body => $slow);
ok(time - $t0 < 1, 'the retry does not wait for the provider');
is($r->{status}, 200, 'the retry in flight is 200');
is($r->{json}{status}, 'queued', 'with the task as it stands: queued');
my $slow_id = $r->{json}{id};

waitpid $pid, 0;
open my $in, '<', $t->dir . '/first' or die;
my $first_r = json_decode(scalar <$in>);
close $in;

is($first_r->{status}, 504, 'the first request ends with the provider\'s timeout');

$r = $t->post('/v1/videos', key => $key,
              headers => { 'Idempotency-Key' => 'slow-1' }, body => $slow);
is($r->{json}{id}, $slow_id, 'a retry after that names the same task');
is($r->{json}{status}, 'failed', 'which failed');

$l = ledger_of('alice');
my @slow = grep { ($_->{task} || '') eq $slow_id } @$l;
is_deeply([map { $_->{type} } @slow], ['reserve', 'refund'],
          'reserved once, refunded once');

is(scalar($oa->requests_to('POST', qr{^/v1/videos$})), 1,
   'the provider saw one create');

# 8. validation: an overlong key
$r = $t->post('/v1/videos', key => $key,
              headers => { 'Idempotency-Key' => 'k' x 256 }, body => $body);
is($r->{status}, 400, 'a key longer than 255 is 400');

$t->audit_clean;
$t->stop;
$t->check_log;

done_testing;
