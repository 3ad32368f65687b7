#!/usr/bin/perl

# The fal adapter against a mock of fal.ai's queue: the exact submit fal
# receives (endpoint id as the path, the endpoint's own input, Key auth),
# the status, result and cancel URLs of the submit answer used as given,
# polling through IN_QUEUE, IN_PROGRESS and COMPLETED, the result fetched
# after COMPLETED, both kinds of failed COMPLETED refunded, cancel (and a
# cancel that comes too late), fal's 422s passed on, and every fault.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use MIME::Base64 qw(encode_base64);
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $fal = $t->mock('Makeclip::Mock::Fal', name => 'fal');
my $fal2 = $t->mock('Makeclip::Mock::Fal', name => 'fal2', key => 'second-key');

open my $fh, '>', $t->dir . '/fal.key' or die;
print $fh "test-provider-key\n";
close $fh;

$ENV{MAKECLIP_TEST_FAL2_KEY} = 'second-key';
$ENV{MAKECLIP_TEST_FAL_BAD} = 'wrong-fal-key';

my $KT = 'fal-ai/kling-video/v2.1/master/text-to-video';
my $KI = 'fal-ai/kling-video/v2.1/master/image-to-video';

$t->write_config(<<"END" . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider fal adapter=fal url=http://127.0.0.1:%%PORT_fal%%
                      key_file=%%DIR%%/fal.key timeout=1500ms seed=off
                      aspect_ratios=16:9,9:16,1:1;
    makeclip_provider falveo adapter=fal url=http://127.0.0.1:%%PORT_fal%%
                      key_file=%%DIR%%/fal.key duration_format=seconds_suffix
                      aspect_ratios=16:9,9:16 resolution=on priority=low;
    makeclip_provider fal2 adapter=fal url=http://127.0.0.1:%%PORT_fal2%%
                      key_env=MAKECLIP_TEST_FAL2_KEY seed=off;
    makeclip_provider falbad adapter=fal url=http://127.0.0.1:%%PORT_fal%%
                      key_env=MAKECLIP_TEST_FAL_BAD;
    makeclip_model kling price=10 seconds=5,10 to=fal:$KT;
    makeclip_model kling-i2v price=10 seconds=5,10 to=fal:$KI;
    makeclip_model kling-seven price=10 seconds=7 to=fal:$KT;
    makeclip_model veo3 price=40 seconds=4,6,8
                   sizes=1280x720,720x1280,1920x1080
                   resolutions=720p:1,1080p:1.5 to=falveo:fal-ai/veo3;
    makeclip_model fallback price=10 seconds=5 to=fal:$KT,fal2:$KT;
    makeclip_model badkey price=10 seconds=5 to=falbad:$KT;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 5000);

sub submits { my ($m) = @_; $m->requests_to('POST', qr{^/fal-ai/}) }
sub fal_ctl { my ($m, $what, %b) = @_; $m->_ctl('POST', $what, \%b) }

# text to video: the submit fal gets
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'kling', prompt => 'a red fox in snow',
                           seconds => 5, negative_prompt => 'blur' });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'IN_QUEUE is queued');
is($v->{provider}, 'fal', 'served by fal');
is($v->{credits}, 50, '5 s at 10');
is_deeply([$t->balance('acme')], [4950, 50], 'reserved');

my ($sent) = submits($fal);
is($sent->{path}, "/$KT", 'POST /{endpoint_id}, sub-path and all');
is($sent->{headers}{authorization}, 'Key test-provider-key',
   'Authorization: Key <FAL_KEY>');
is($sent->{headers}{accept}, 'application/json', 'Accept: application/json');
is($sent->{headers}{'x-fal-queue-priority'}, 'normal',
   'the priority the official client sends');
is($sent->{headers}{'content-type'}, 'application/json', 'a JSON body');
is_deeply($sent->{json}, { prompt => 'a red fox in snow', duration => '5',
                           aspect_ratio => '16:9', negative_prompt => 'blur' },
          'field for field the endpoint\'s input, no wrapper');
like($sent->{body}, qr/"duration":"5"/, 'duration a string');
ok(!grep({ /mk_/ } map { values %{ $_->{headers} } } @{ $fal->requests }),
   'the client\'s key never reaches fal');

my ($rid) = keys %{ $fal->tasks };

# polling: the status_url fal gave, then the response_url
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'queued', 'IN_QUEUE');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'IN_PROGRESS is in_progress');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'COMPLETED, then the result: completed');
is($r->{json}{progress}, 100, 'at 100');
is_deeply([$t->balance('acme')], [4950, 0], 'settled');

my @polls = $fal->requests_to('GET', qr{/requests/});
is(scalar @polls, 4, 'three status polls and one result');
is($polls[0]{path}, "/fal-ai/kling-video/requests/$rid/status",
   'the status_url as given: owner/alias, no sub-path');
is($polls[0]{headers}{authorization}, 'Key test-provider-key', 'with the key');
is($polls[0]{headers}{accept}, 'application/json', 'and Accept');
is($polls[3]{path}, "/fal-ai/kling-video/requests/$rid",
   'the result at the response_url');
is($polls[3]{headers}{authorization}, 'Key test-provider-key', 'with the key');

$t->get("/v1/videos/$v->{id}", key => $key) for 1 .. 2;
is(scalar(() = $fal->requests_to('GET', qr{/requests/})), 4,
   'a finished task is answered from the store');

# the video, from fal's media URL, without credentials
$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^FAL-MP4-\Q$rid\E-/, 'fal\'s bytes');
my ($dl) = $fal->requests_to('GET', qr{^/files/});
is($dl->{path}, "/files/$rid.mp4", 'fetched from video.url');
ok(!$dl->{headers}{authorization}, 'no key sent with the media download');

# Veo on fal: "8s", a ratio from the endpoint's list, resolution, seed
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo3', prompt => 'waves', seconds => 8,
                        size => '1920x1080', seed => 7 });
is($r->{status}, 200, 'veo3 create 200');
is($r->{json}{credits}, 480, '8 s at 40, 1.5x for 1080p');
($sent) = reverse submits($fal);
is($sent->{path}, '/fal-ai/veo3', 'POST /fal-ai/veo3');
is_deeply($sent->{json}, { prompt => 'waves', duration => '8s',
                           aspect_ratio => '16:9', resolution => '1080p',
                           seed => 7 },
          'duration_format=seconds_suffix, resolution=on, seed');
like($sent->{body}, qr/"seed":7[,}]/, 'seed a JSON integer');
is($sent->{headers}{'x-fal-queue-priority'}, 'low', 'priority=low');

# image to video: a data: URL passes as image_url, no aspect_ratio
my $png = 'data:image/png;base64,' . encode_base64("\x89PNG fake", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-i2v', prompt => 'move', image_url => $png });
is($r->{status}, 200, 'image create 200');
($sent) = reverse submits($fal);
is($sent->{path}, "/$KI", 'to the image-to-video endpoint');
is_deeply($sent->{json}, { prompt => 'move', duration => '5',
                           image_url => $png },
          'image_url as the client gave it; the shape is the image\'s');
my $iid = $r->{json}{id};
$r = $t->wait_task($iid, key => $key);
is($r->{json}{status}, 'completed', 'the image task completes');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-i2v', prompt => 'move',
                        image_url => 'https://images.example.com/a.png' });
($sent) = reverse submits($fal);
is($sent->{json}{image_url}, 'https://images.example.com/a.png',
   'an https image URL, not fetched by the gateway');

# Kling on fal takes no seed (seed=off): 400, nothing kept
my ($b0, $r0) = $t->balance('acme');
my $n = submits($fal);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling', prompt => 'x', seed => 3 });
is($r->{status}, 400, 'a seed for an endpoint without one: 400');
like($r->{json}{error}{message}, qr/cannot take seed/, 'says so');
is($r->{json}{error}{code}, 'unsupported_parameter', 'before any charge');
is(scalar(() = submits($fal)), $n, 'fal was not called');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# a job that fails: error in the COMPLETED status
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling', prompt => 'x [fail]' });
is_deeply([$t->balance('acme')], [$b0 - 50, $r0 + 50], 'reserved');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'failed');
is($r->{json}{error}{code}, 'runner_server_error', 'error_type as the code');
like($r->{json}{error}{message}, qr/internal server error/, 'error as the message');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# a job that fails: a 422 at the response_url
$n = $fal->requests_to('GET', qr{/requests/[\w-]+$});
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling', prompt => 'x [reject]' });
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'failed');
is($r->{json}{error}{code}, 'content_policy_violation', 'the detail\'s type');
like($r->{json}{error}{message}, qr/content checker/, 'the detail\'s message');
is(scalar(() = $fal->requests_to('GET', qr{/requests/[\w-]+$})), $n + 1,
   'found at the response_url');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# cancel a queued request: PUT cancel_url, refunded
$r = $t->post('/v1/videos', key => $key, body => { model => 'kling', prompt => 'stop' });
my $cid = $r->{json}{id};
my ($crid) = grep { $fal->tasks->{$_}{input}{prompt} eq 'stop' } keys %{ $fal->tasks };
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'cancel 200');
is($r->{json}{status}, 'failed', 'failed');
is($r->{json}{error}{code}, 'canceled', 'code canceled');
ok($r->{json}{canceled}, 'canceled: true');
my ($put) = $fal->requests_to('PUT', qr{/cancel$});
is($put->{path}, "/fal-ai/kling-video/requests/$crid/cancel", 'PUT cancel_url');
is($put->{headers}{authorization}, 'Key test-provider-key', 'with the key');
ok($fal->tasks->{$crid}{canceled}, 'fal canceled it');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');
$r = $t->get("/v1/videos/$cid", key => $key);
is($r->{json}{error}{code}, 'canceled', 'stays canceled');

# a cancel that comes after fal finished: ALREADY_COMPLETED, kept and paid
$r = $t->post('/v1/videos', key => $key, body => { model => 'kling', prompt => 'late' });
$cid = $r->{json}{id};
($crid) = grep { $fal->tasks->{$_}{input}{prompt} eq 'late' } keys %{ $fal->tasks };
fal_ctl($fal, 'finish', id => $crid);
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'late cancel 200');
is($r->{json}{status}, 'completed', 'the video finished first');
ok(!$r->{json}{canceled}, 'canceled: false');
my ($late) = reverse $fal->requests_to('GET', qr{/requests/[\w-]+$});
is($late->{path}, "/fal-ai/kling-video/requests/$crid", 'its result was read');
is_deeply([$t->balance('acme')], [$b0 - 50, $r0], 'and it is paid');
$r = $t->get("/v1/videos/$cid/content", key => $key);
is($r->{status}, 200, 'its content is there');
($b0, $r0) = $t->balance('acme');

# fal's 422 on the submit: the client's 400 with fal's reason, refunded
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-seven', prompt => 'x' });
is($r->{status}, 400, 'fal\'s 422 is a client 400');
is($r->{json}{error}{code}, 'provider_rejected', 'provider_rejected');
like($r->{json}{error}{message},
     qr/duration: unexpected value; permitted: '5', '10'/,
     'with fal\'s field and message');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# fal refuses the key: 502, nothing about keys, refunded
$r = $t->post('/v1/videos', key => $key, body => { model => 'badkey', prompt => 'x' });
is($r->{status}, 502, 'fal\'s 401 is 502');
unlike($r->{content}, qr/wrong-fal|test-provider|Key /, 'the answer has no key');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');
my ($bad) = reverse submits($fal);
is($bad->{headers}{authorization}, 'Key wrong-fal-key', 'the mock saw the wrong key');

# fallback: fal answers 500, fal2 takes it with its own key
$fal->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'fall back' });
is($r->{status}, 200, 'fallback 200');
is($r->{json}{provider}, 'fal2', 'served by fal2');
($sent) = reverse submits($fal2);
is($sent->{headers}{authorization}, 'Key second-key', 'fal2\'s key');
my @reserves = grep { /"type":"reserve"/ && /$r->{json}{id}/ } split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation for both attempts');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'completed', 'followed at fal2\'s URLs');
($b0, $r0) = $t->balance('acme');

# every target fails
$fal->faults(create => ['503']);
$fal2->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 502, 'all 5xx is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$fal->faults(create => ['429']);
$fal2->faults(create => ['429']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 503, '429 everywhere is 503');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$fal->faults(create => ['timeout']);
my $t0 = time;
$r = $t->post('/v1/videos', key => $key, body => { model => 'kling', prompt => 'slow' });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t0 < 5, 'ended by timeout=1500ms');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$fal->faults(create => ['malformed']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'kling', prompt => 'x' });
is($r->{status}, 502, 'malformed JSON is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# failed polls keep the stored state; so does a failed result fetch
$r = $t->post('/v1/videos', key => $key, body => { model => 'kling', prompt => 'poll' });
my $pid = $r->{json}{id};
$fal->faults(status => ['500', 'timeout']);
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a 500 poll keeps queued');
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a timed-out poll too');
$t->get("/v1/videos/$pid", key => $key) for 1 .. 2;
$fal->faults(result => ['502']);
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'in_progress', 'COMPLETED but the result 502: in_progress');
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'completed', 'the next poll reads it');

$t->audit_clean;
$t->stop;
$t->check_log;

ok(!grep({ /test-provider-key|second-key|wrong-fal-key/ } $t->error_log),
   'no provider key in the error log');

done_testing;
