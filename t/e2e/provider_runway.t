#!/usr/bin/perl

# The runway adapter against a mock of Runway's Developer API: the exact
# requests Runway receives (endpoint by image, camelCase fields, version
# header), polling through PENDING, THROTTLED, RUNNING and SUCCEEDED, the
# output fetched without credentials, failures refunded, the two-step
# cancel, Runway's 400s passed on, and every transport fault.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use MIME::Base64 qw(encode_base64);
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $rw = $t->mock('Makeclip::Mock::Runway', name => 'rw');
my $rw2 = $t->mock('Makeclip::Mock::Runway', name => 'rw2', key => 'second-key',
                   config => { version => '2025-09-01' });

open my $fh, '>', $t->dir . '/rw.key' or die;
print $fh "test-provider-key\n";
close $fh;

$ENV{MAKECLIP_TEST_RW2_KEY} = 'second-key';
$ENV{MAKECLIP_TEST_RW_BAD} = 'key_wrong';

$t->write_config(<<'END' . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider rw adapter=runway url=http://127.0.0.1:%%PORT_rw%%
                      key_file=%%DIR%%/rw.key timeout=1500ms;
    makeclip_provider rw2 adapter=runway url=http://127.0.0.1:%%PORT_rw2%%
                      key_env=MAKECLIP_TEST_RW2_KEY version=2025-09-01;
    makeclip_provider rwbad adapter=runway url=http://127.0.0.1:%%PORT_rw%%
                      key_env=MAKECLIP_TEST_RW_BAD;
    makeclip_model gen45 price=10 seconds=5,10 sizes=1280x720,720x1280
                   to=rw:gen4.5;
    makeclip_model turbo price=5 seconds=5,10 to=rw:gen4_turbo;
    makeclip_model veo price=40 seconds=4,6,8 sizes=1280x720,1920x1080
                   resolutions=720p:1,1080p:1.5 to=rw:veo3.1;
    makeclip_model veo-five price=40 seconds=5 to=rw:veo3.1;
    makeclip_model gen9 price=1 seconds=5 to=rw:gen9;
    makeclip_model fallback price=10 seconds=5 to=rw:gen4.5,rw2:gen4.5;
    makeclip_model badkey price=10 seconds=5 to=rwbad:gen4.5;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 5000);

sub creates { my ($m, $path) = @_; $m->requests_to('POST', $path) }

# text to video: the request Runway gets
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'gen45', prompt => 'a lighthouse at dusk',
                           seconds => 5, seed => 42 });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'queued');
is($v->{provider}, 'rw', 'served by rw');
is($v->{credits}, 50, '5 s at 10');
is_deeply([$t->balance('acme')], [4950, 50], 'reserved');

my ($sent) = creates($rw, qr{^/v1/text_to_video$});
ok($sent, 'no image: POST /v1/text_to_video');
is($sent->{headers}{authorization}, 'Bearer test-provider-key', 'Bearer key');
is($sent->{headers}{'x-runway-version'}, '2024-11-06', 'X-Runway-Version');
is($sent->{headers}{'content-type'}, 'application/json', 'as JSON');
is_deeply($sent->{json}, { model => 'gen4.5',
                           promptText => 'a lighthouse at dusk',
                           ratio => '1280:720', duration => 5, seed => 42 },
          'field for field what the SDK sends');
like($sent->{body}, qr/"duration":5[,}]/, 'duration a JSON number');
ok(!grep({ /mk_/ } map { values %{ $_->{headers} } } @{ $rw->requests }),
   'the client\'s key never reaches Runway');

# polling: THROTTLED is still queued, RUNNING has progress, then SUCCEEDED
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'queued', 'THROTTLED shows as queued');
is($rw->tasks->{ (keys %{ $rw->tasks })[0] }{status}, 'THROTTLED',
   'the mock was THROTTLED');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'RUNNING is in_progress');
is($r->{json}{progress}, 40, 'progress 0.4 is 40');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'SUCCEEDED is completed');
is_deeply([$t->balance('acme')], [4950, 0], 'settled');

my @polls = $rw->requests_to('GET', qr{^/v1/tasks/});
is(scalar @polls, 3, 'three polls');
is($polls[0]{headers}{'x-runway-version'}, '2024-11-06', 'polls carry the version');
is($polls[0]{headers}{authorization}, 'Bearer test-provider-key', 'and the key');

# the output, from output[0], fetched without the provider key
$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^RUNWAY-MP4-/, 'Runway\'s bytes');
my ($dl) = $rw->requests_to('GET', qr{^/media/});
is($dl->{query}{_jwt}, 'signed', 'the signed output URL as given');
ok(!$dl->{headers}{authorization}, 'no key sent to the output URL');

# image to video: an https URL
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'turbo', prompt => 'she turns',
                        image_url => 'https://cdn.example.com/a.png' });
is($r->{status}, 200, 'image create 200');
($sent) = reverse creates($rw, qr{^/v1/image_to_video$});
is_deeply($sent->{json}, { model => 'gen4_turbo', promptText => 'she turns',
                           promptImage => 'https://cdn.example.com/a.png',
                           ratio => '1280:720', duration => 5 },
          'an image: /v1/image_to_video with promptImage');

# image as a data: URL, inline
my $png = 'data:image/png;base64,' . encode_base64("\x89PNG fake", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'turbo', prompt => 'move', image_url => $png,
                        seconds => 10 });
is($r->{status}, 200, 'data: image create 200');
($sent) = reverse creates($rw, qr{^/v1/image_to_video$});
is($sent->{json}{promptImage}, $png, 'promptImage is the data: URL');
is($sent->{json}{duration}, 10, 'duration 10');

# gen4_turbo without an image: refused before Runway, nothing charged
my ($b0) = $t->balance('acme');
my $n0 = () = creates($rw, qr{^/v1/});
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'turbo', prompt => 'no image' });
is($r->{status}, 400, 'text-only gen4_turbo is 400');
like($r->{json}{error}{message}, qr/from an image only/, 'says why');
is(scalar $t->balance('acme'), $b0, 'refunded');
my $n1 = () = creates($rw, qr{^/v1/});
is($n1, $n0, 'Runway was not called');

# a duration veo3.1 cannot make: 400 with the allowed values
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-five', prompt => 'x' });
is($r->{status}, 400, '5 s on veo3.1 is 400');
like($r->{json}{error}{message}, qr/allowed: 4, 6, 8/, 'lists 4, 6, 8');
is(scalar $t->balance('acme'), $b0, 'refunded');

# veo3.1 at 1080p with a negative prompt
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo', prompt => 'surf', seconds => 6,
                        size => '1920x1080', negative_prompt => 'blurry' });
is($r->{status}, 200, 'veo create 200');
is($r->{json}{credits}, 360, '6 s at 40, 1.5x for 1080p');
($sent) = reverse creates($rw, qr{^/v1/text_to_video$});
is_deeply($sent->{json}, { model => 'veo3.1', promptText => 'surf',
                           ratio => '1920:1080', duration => 6,
                           negativePrompt => 'blurry' },
          '1920:1080 and negativePrompt');

# veo3.1 takes no seed: Runway's rule, refused before any call
($b0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo', prompt => 'x', seconds => 4, seed => 1 });
is($r->{status}, 400, 'a seed for veo3.1 is 400');
like($r->{json}{error}{message}, qr/no seed/, 'says so');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a task that fails is refunded, with Runway's code and reason
my $r0;
($b0, $r0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'gen45', prompt => 'x [fail]' });
is($r->{status}, 200, 'create 200');
is(($t->balance('acme'))[1], $r0 + 50, 'reserved while it runs');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'FAILED is failed');
is($r->{json}{error}{code}, 'SAFETY.INPUT.TEXT', 'failureCode');
like($r->{json}{error}{message}, qr/content moderation/, 'failure');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# Runway rejects the input: its 400 reaches the client, refunded
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'gen9', prompt => 'x' });
is($r->{status}, 400, 'Runway\'s 400 is a client 400');
is($r->{json}{error}{code}, 'provider_rejected', 'provider_rejected');
like($r->{json}{error}{message},
     qr/Validation of body failed \(model\): Invalid enum value for model/,
     'with Runway\'s error and issue');
is(scalar $t->balance('acme'), $b0, 'refunded');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'gen45', prompt => 'y' x 1001 });
is($r->{status}, 400, 'a prompt over 1000 characters');
like($r->{json}{error}{message}, qr/\(promptText\): String must contain at most 1000/,
     'Runway\'s reason');

# cancel while THROTTLED: read, then DELETE; refunded
($b0, $r0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key, body => { model => 'gen45', prompt => 'stop me' });
my $cid = $r->{json}{id};
$t->get("/v1/videos/$cid", key => $key);
my $before = @{ $rw->requests };
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'cancel 200');
is($r->{json}{status}, 'failed', 'the task is failed');
is($r->{json}{error}{code}, 'canceled', 'with code canceled');
ok($r->{json}{canceled}, 'canceled: true');
my @after = @{ $rw->requests }[$before .. $#{ $rw->requests }];
is(scalar @after, 2, 'two calls');
is("$after[0]{method} $after[0]{path}", "GET $after[1]{path}", 'first the task is read');
is($after[1]{method}, 'DELETE', 'then DELETE');
like($after[1]{path}, qr{^/v1/tasks/[\w-]+$}, 'DELETE /v1/tasks/{id}');
is($after[1]{headers}{authorization}, 'Bearer test-provider-key', 'with the key');
is($after[1]{headers}{'x-runway-version'}, '2024-11-06', 'and the version');
my ($rid) = $after[1]{path} =~ m{([\w-]+)$};
is($rw->tasks->{$rid}{status}, 'CANCELLED', 'Runway canceled it');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');
$r = $t->get("/v1/videos/$cid", key => $key);
is($r->{json}{error}{code}, 'canceled', 'stays canceled');

# cancel of a task that finished at Runway meanwhile: no DELETE, kept
($b0, $r0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key, body => { model => 'gen45', prompt => 'too late' });
$cid = $r->{json}{id};
$t->get("/v1/videos/$cid", key => $key) for 1 .. 2;
$before = @{ $rw->requests };
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'late cancel 200');
is($r->{json}{status}, 'completed', 'the video finished first');
ok(!$r->{json}{canceled}, 'canceled: false');
@after = @{ $rw->requests }[$before .. $#{ $rw->requests }];
ok(!grep({ $_->{method} eq 'DELETE' } @after), 'no DELETE: the output is kept');
is_deeply([$t->balance('acme')], [$b0 - 50, $r0], 'and it is paid');
$r = $t->get("/v1/videos/$cid/content", key => $key);
is($r->{status}, 200, 'its content is there');

# Runway refuses the key: 502, nothing about keys, refunded
($b0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key, body => { model => 'badkey', prompt => 'x' });
is($r->{status}, 502, 'Runway\'s 401 is 502');
unlike($r->{content}, qr/key_|test-provider|Bearer/i, 'the answer has no key');
is(scalar $t->balance('acme'), $b0, 'refunded');
my ($b401) = reverse creates($rw, qr{^/v1/text_to_video$});
is($b401->{headers}{authorization}, 'Bearer key_wrong', 'the mock saw the wrong key');

# fallback: rw answers 500, rw2 (its own key and version) takes it
$rw->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'fall back' });
is($r->{status}, 200, 'fallback 200');
is($r->{json}{provider}, 'rw2', 'served by rw2');
($sent) = reverse creates($rw2, qr{^/v1/text_to_video$});
is($sent->{headers}{authorization}, 'Bearer second-key', 'rw2\'s key');
is($sent->{headers}{'x-runway-version'}, '2025-09-01', 'version= in the header');
my @reserves = grep { /"type":"reserve"/ && /$r->{json}{id}/ } split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation for both attempts');

# every target fails: 502, refunded
($b0) = $t->balance('acme');
$rw->faults(create => ['503']);
$rw2->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 502, 'all 5xx is 502');
is(scalar $t->balance('acme'), $b0, 'refunded');

$rw->faults(create => ['429']);
$rw2->faults(create => ['429']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 503, '429 everywhere is 503');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a timeout
$rw->faults(create => ['timeout']);
my $t0 = time;
$r = $t->post('/v1/videos', key => $key, body => { model => 'gen45', prompt => 'slow' });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t0 < 5, 'ended by timeout=1500ms');
is(scalar $t->balance('acme'), $b0, 'refunded');

# not JSON
$rw->faults(create => ['malformed']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'gen45', prompt => 'x' });
is($r->{status}, 502, 'malformed JSON is 502');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a poll that fails keeps the stored state, then it goes on
$r = $t->post('/v1/videos', key => $key, body => { model => 'gen45', prompt => 'poll' });
my $pid = $r->{json}{id};
$rw->faults(status => ['500', 'timeout']);
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a 500 poll keeps queued');
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a timed-out poll too');
$r = $t->wait_task($pid, key => $key);
is($r->{json}{status}, 'completed', 'then it completes');

$t->audit_clean;
$t->stop;
$t->check_log;

ok(!grep({ /test-provider-key|second-key|key_wrong/ } $t->error_log),
   'no provider key in the error log');

done_testing;
