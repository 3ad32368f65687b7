#!/usr/bin/perl

# The offline sandbox: create, poll to completion, settle; a failing task
# refunded; the video served with ranges; the basic error answers.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Makeclip::Test;

my $t = Makeclip::Test->new;

$t->write_config(<<'END' . $t->api_server('makeclip_default_model sandbox-video;'));
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider sandbox adapter=sandbox queue=200ms run=600ms
                      video=%%ROOT%%/conf/sandbox.mp4;
    makeclip_model sandbox-video price=10 seconds=4,8 sizes=1280x720,720x1280,1920x1080
                   resolutions=720p:1,1080p:2 to=sandbox;
    makeclip_model sandbox-fail price=5 seconds=4 to=sandbox:sandbox-fail;
    makeclip_plan pro models=* max_seconds=8 max_resolution=1080p;
    makeclip_plan free models=sandbox-video max_seconds=4 max_resolution=720p max_active=1;
END

$t->run;

my $key = $t->account('alice', credits => 100);
my $free = $t->account('bob', plan => 'free', credits => 100);

# create: reserved at once
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'sandbox-video', prompt => 'a paper boat',
                           seconds => '4' });
is($r->{status}, 200, 'create answers 200');
my $v = $r->{json};
like($v->{id}, qr/^video_[0-9a-f]{32}$/, 'task id is random, 128 bits');
is($v->{object}, 'video', 'object is video');
is($v->{status}, 'queued', 'a new task is queued');
is($v->{credits}, 40, '4 s at 10 credits a second');
is($v->{seconds}, '4', 'seconds is a string, as OpenAI has it');
is_deeply([$t->balance('alice')], [60, 40], 'the price is reserved');

# poll to the end: settled
$r = $t->wait_task($v->{id}, key => $key);
is($r->{json}{status}, 'completed', 'the task completes');
is($r->{json}{progress}, 100, 'progress 100');
like($r->{json}{output}{video_url}, qr{^http://127\.0\.0\.1:\d+/v1/videos/$v->{id}/content$},
     'video_url is the gateway\'s own content URL');
is_deeply([$t->balance('alice')], [60, 0], 'settled: reserved goes, balance stays');

# the video itself
$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
is($r->{headers}{'content-type'}, 'video/mp4', 'content is video/mp4');
is(length $r->{content}, -s "$FindBin::Bin/../../conf/sandbox.mp4", 'the whole file');
$r = $t->get("/v1/videos/$v->{id}/content", key => $key,
             headers => { Range => 'bytes=0-9' });
is($r->{status}, 206, 'a range gives 206');
is(length $r->{content}, 10, 'ten bytes');

# a failing task is refunded, exactly once
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'sandbox-fail', prompt => 'x' });
is($r->{json}{credits}, 20, 'sandbox-fail costs 20');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'the failing task fails');
is($r->{json}{error}{code}, 'generation_failed', 'with a code');
$t->get("/v1/videos/$r->{json}{id}", key => $key) for 1 .. 3;
is_deeply([$t->balance('alice')], [60, 0], 'refunded once, however often polled');

# a rejected prompt: 400, nothing charged
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'sandbox-video', prompt => 'no [reject]' });
is($r->{status}, 400, 'a provider rejection is a 400');
is($r->{json}{error}{code}, 'provider_rejected', 'code provider_rejected');
is_deeply([$t->balance('alice')], [60, 0], 'a rejected create costs nothing');

# errors
$r = $t->post('/v1/videos', key => 'mk_wrong_key_0000000000',
              body => { model => 'sandbox-video', prompt => 'x' });
is($r->{status}, 401, 'a bad key is 401');
is($r->{json}{error}{code}, 'invalid_api_key', 'invalid_api_key');

$r = $t->post('/v1/videos', body => { prompt => 'x' });
is($r->{status}, 401, 'no key is 401');

$r = $t->post('/v1/videos', key => $key, body => '{"prompt": "x",',
              headers => { 'Content-Type' => 'application/json' });
is($r->{status}, 400, 'malformed JSON is 400');
is($r->{json}{error}{code}, 'invalid_json', 'invalid_json');
is($r->{json}{error}{type}, 'invalid_request_error', 'OpenAI error shape');

$r = $t->post('/v1/videos', key => $key, body => { model => 'nope', prompt => 'x' });
is($r->{status}, 400, 'unknown model is 400');
is($r->{json}{error}{param}, 'model', 'param model');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'sandbox-video', prompt => 'x', seconds => '5' });
is($r->{status}, 400, 'seconds outside the model is 400');
like($r->{json}{error}{message}, qr/allowed: 4, 8/, 'the message lists what is allowed');

$r = $t->post('/v1/videos', key => $free,
              body => { model => 'sandbox-video', prompt => 'x', seconds => '8' });
is($r->{status}, 403, 'seconds above the plan is 403');
is($r->{json}{error}{code}, 'duration_not_allowed', 'duration_not_allowed');
like($r->{json}{error}{message}, qr/seconds 8 is above the 4 allowed for plan 'free'/,
     'the message names the limit');

$r = $t->post('/v1/videos', key => $free,
              body => { model => 'sandbox-video', prompt => 'x', size => '1920x1080' });
is($r->{status}, 403, 'resolution above the plan is 403');

$r = $t->post('/v1/videos', key => $free,
              body => { model => 'sandbox-fail', prompt => 'x' });
is($r->{status}, 403, 'a model outside the plan is 403');

# 402: bob has 100 and each 4 s video costs 40, one at a time on free
$r = $t->post('/v1/videos', key => $free, body => { prompt => 'one' });
is($r->{status}, 200, 'bob affords one');
$r = $t->post('/v1/videos', key => $free, body => { prompt => 'two' });
is($r->{status}, 429, 'two at once is above max_active on free');
is($r->{json}{error}{code}, 'too_many_active_tasks', 'too_many_active_tasks');

$r = $t->get("/v1/videos/$v->{id}", key => $free);
is($r->{status}, 404, 'another account\'s task is 404');

$r = $t->get('/v1/videos/video_00000000000000000000000000000000', key => $key);
is($r->{status}, 404, 'an unknown task is 404');

my ($out) = $t->cli('adjust', 'alice', '-60', '--reason', 'test');
$r = $t->post('/v1/videos', key => $key, body => { prompt => 'poor' });
is($r->{status}, 402, 'a short balance is 402');
is($r->{json}{error}{code}, 'insufficient_credits', 'insufficient_credits');

# list
$r = $t->get('/v1/videos?limit=2', key => $key);
is($r->{json}{object}, 'list', 'a list');
is(scalar @{ $r->{json}{data} }, 2, 'limit 2');
ok($r->{json}{has_more}, 'has_more');
my $page2 = $t->get("/v1/videos?limit=2&after=$r->{json}{last_id}", key => $key);
ok(!grep({ $_->{id} eq $r->{json}{data}[0]{id} } @{ $page2->{json}{data} }),
   'the next page starts after the cursor');

# credits and models
$r = $t->get('/v1/credits', key => $key);
is($r->{json}{balance}, 0, 'credits: balance');
ok(scalar @{ $r->{json}{ledger} } >= 5, 'credits: ledger entries');

$r = $t->get('/v1/models', key => $free);
is_deeply([map { $_->{id} } @{ $r->{json}{data} }], ['sandbox-video'],
          'models lists what the plan may use');

# dry run
$r = $t->post('/v1/videos', key => $free,
              body => { prompt => 'x', dry_run => JSON::PP::true });
is($r->{json}{credits}, 40, 'dry_run gives the price');
is($r->{json}{route}[0]{provider}, 'sandbox', 'and the route');

# DELETE: a running task is canceled and refunded
$t->cli('grant', 'alice', 100, '--reason', 'more');
my ($bal) = $t->balance('alice');
$r = $t->post('/v1/videos', key => $key, body => { prompt => 'to cancel', model => 'sandbox-video' });
my $cid = $r->{json}{id};
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'cancel 200');
is($r->{json}{object}, 'video.deleted', 'OpenAI\'s delete object');
ok($r->{json}{canceled}, 'canceled');
is($r->{json}{error}{code}, 'canceled', 'failed with code canceled');
is_deeply([$t->balance('alice')], [$bal, 0], 'refunded');
$r = $t->get("/v1/videos/$cid", key => $key);
is($r->{json}{status}, 'failed', 'a canceled task stays readable');

# DELETE of a finished task: gone from the API, kept for the books
$r = $t->delete("/v1/videos/$v->{id}", key => $key);
is_deeply($r->{json}, { id => $v->{id}, object => 'video.deleted', deleted => JSON::PP::true },
          'a finished task is deleted');
is($t->get("/v1/videos/$v->{id}", key => $key)->{status}, 404, 'then it is a 404');
is($t->get("/v1/videos/$v->{id}/content", key => $key)->{status}, 404, 'its content too');
$r = $t->get('/v1/videos?limit=100', key => $key);
ok(!grep({ $_->{id} eq $v->{id} } @{ $r->{json}{data} }), 'and it is not listed');
like(scalar $t->cli('ledger', 'alice'), qr/"task":"$v->{id}"/, 'its ledger entries stay');
is($t->delete("/v1/videos/$v->{id}", key => $key)->{status}, 404, 'deleting twice is a 404');

$t->audit_clean;
$t->stop;
$t->check_log;

done_testing;
