#!/usr/bin/perl

# The luma adapter against a mock of Luma's Dream Machine API: the exact
# create Luma receives (duration with its unit, aspect ratio, resolution,
# keyframes), polling through queued, dreaming and completed, the video
# fetched without credentials, failures refunded, what Luma cannot take
# refused before any charge, Luma's 400s passed on, no cancel at Luma,
# and every transport fault.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use MIME::Base64 qw(encode_base64);
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $lm = $t->mock('Makeclip::Mock::Luma', name => 'luma');
my $lm2 = $t->mock('Makeclip::Mock::Luma', name => 'luma2', key => 'second-key');

open my $fh, '>', $t->dir . '/luma.key' or die;
print $fh "test-provider-key\n";
close $fh;

$ENV{MAKECLIP_TEST_LUMA2_KEY} = 'second-key';
$ENV{MAKECLIP_TEST_LUMA_BAD} = 'luma-wrong';

$t->write_config(<<'END' . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider luma adapter=luma
                      url=http://127.0.0.1:%%PORT_luma%%/dream-machine/v1
                      key_file=%%DIR%%/luma.key timeout=1500ms;
    makeclip_provider luma2 adapter=luma
                      url=http://127.0.0.1:%%PORT_luma2%%/dream-machine/v1
                      key_env=MAKECLIP_TEST_LUMA2_KEY;
    makeclip_provider lumabad adapter=luma
                      url=http://127.0.0.1:%%PORT_luma%%/dream-machine/v1
                      key_env=MAKECLIP_TEST_LUMA_BAD;
    makeclip_model ray2 price=10 seconds=5,9
                   sizes=1280x720,720x1280,1920x1080
                   resolutions=720p:1,1080p:2 to=luma:ray-2;
    makeclip_model ray-seven price=10 seconds=5,7,9 to=luma:ray-2;
    makeclip_model ray3 price=10 seconds=5 to=luma:ray-3;
    makeclip_model fallback price=10 seconds=5 to=luma:ray-2,luma2:ray-flash-2;
    makeclip_model badkey price=10 seconds=5 to=lumabad:ray-2;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 5000);

sub creates { $_[0]->requests_to('POST', qr{^/dream-machine/v1/generations}) }

# text to video: the request Luma gets
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'ray2', prompt => 'an old lady laughing underwater',
                           seconds => 5 });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'queued');
is($v->{provider}, 'luma', 'served by luma');
is($v->{credits}, 50, '5 s at 10');
is_deeply([$t->balance('acme')], [4950, 50], 'reserved');

my ($sent) = creates($lm);
is($sent->{path}, '/dream-machine/v1/generations/video',
   'POST /generations/video, as the SDK');
is($sent->{headers}{authorization}, 'Bearer test-provider-key', 'Bearer key');
is($sent->{headers}{'content-type'}, 'application/json', 'as JSON');
is_deeply($sent->{json}, { model => 'ray-2',
                           prompt => 'an old lady laughing underwater',
                           aspect_ratio => '16:9', duration => '5s',
                           resolution => '720p' },
          'field for field what the SDK sends');
like($sent->{body}, qr/"duration":"5s"/, 'duration a string with its unit');
ok(!grep({ /mk_/ } map { values %{ $_->{headers} } } @{ $lm->requests }),
   'the client\'s key never reaches Luma');

# polling: dreaming, then completed
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'dreaming is in_progress');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'completed');
is($r->{json}{progress}, 100, 'progress 100');
is_deeply([$t->balance('acme')], [4950, 0], 'settled');
my @polls = $lm->requests_to('GET', qr{^/dream-machine/v1/generations/});
is(scalar @polls, 2, 'two polls');
like($polls[0]{path}, qr{^/dream-machine/v1/generations/123e4567-[\w-]+$},
     'GET /generations/{id}');
is($polls[0]{headers}{authorization}, 'Bearer test-provider-key', 'with the key');

# the video from assets.video, no credentials sent there
$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^LUMA-MP4-123e4567/, 'Luma\'s bytes');
my ($dl) = $lm->requests_to('GET', qr{^/media/});
ok(!$dl->{headers}{authorization}, 'no key sent to the CDN');

# image to video: keyframes.frame0, portrait, 9 s
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'ray2', prompt => 'A tiger walking in snow',
                        seconds => 9, size => '720x1280',
                        image_url => 'https://cdn.example.com/tiger.jpg' });
is($r->{status}, 200, 'image create 200');
($sent) = reverse creates($lm);
is_deeply($sent->{json}, { model => 'ray-2', prompt => 'A tiger walking in snow',
                           aspect_ratio => '9:16', duration => '9s',
                           resolution => '720p',
                           keyframes => { frame0 => {
                               type => 'image',
                               url => 'https://cdn.example.com/tiger.jpg' } } },
          'keyframes.frame0 {type: image, url}');

# 1080p
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'ray2', prompt => 'x', size => '1920x1080' });
is($r->{json}{credits}, 100, '1080p at 2x');
($sent) = reverse creates($lm);
is($sent->{json}{resolution}, '1080p', 'resolution 1080p');

# what Luma cannot take is refused before any charge or call
my ($b0, $r0) = $t->balance('acme');
my $n0 = () = creates($lm);
my $png = 'data:image/png;base64,' . encode_base64("\x89PNG fake", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'ray2', prompt => 'x', image_url => $png });
is($r->{status}, 400, 'a data: image is 400 for Luma');
is($r->{json}{error}{code}, 'unsupported_parameter', 'unsupported_parameter');
like($r->{json}{error}{message}, qr/uploaded image/, 'names the upload');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'ray2', prompt => 'x', seed => 7 });
is($r->{status}, 400, 'a seed is 400 for Luma');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'ray2', prompt => 'x', negative_prompt => 'no' });
is($r->{status}, 400, 'a negative prompt is 400 for Luma');
is_deeply([$t->balance('acme')], [$b0, $r0], 'nothing charged');
my $n1 = () = creates($lm);
is($n1, $n0, 'Luma was not called');

# a duration Luma does not make: 400 that lists 5 and 9
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'ray-seven', prompt => 'x', seconds => 7 });
is($r->{status}, 400, '7 s is 400');
like($r->{json}{error}{message}, qr/allowed: 5, 9/, 'lists 5, 9');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# a generation that fails is refunded, with Luma's reason
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'ray2', prompt => 'x [fail]' });
is($r->{status}, 200, 'create 200');
is(($t->balance('acme'))[1], $r0 + 50, 'reserved while it runs');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'failed');
is($r->{json}{error}{code}, 'generation_failed', 'generation_failed');
like($r->{json}{error}{message}, qr/contains a blocked word/, 'failure_reason');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# Luma rejects the input: its detail reaches the client
$r = $t->post('/v1/videos', key => $key, body => { model => 'ray3', prompt => 'x' });
is($r->{status}, 400, 'Luma\'s 400 is a client 400');
is($r->{json}{error}{code}, 'provider_rejected', 'provider_rejected');
like($r->{json}{error}{message}, qr/model 'ray-3' is not one of/, 'with Luma\'s detail');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# no cancel at Luma: the gateway stops following and refunds; Luma is
# not asked to delete anything
$r = $t->post('/v1/videos', key => $key, body => { model => 'ray2', prompt => 'stop' });
my $cid = $r->{json}{id};
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'cancel 200');
is($r->{json}{status}, 'failed', 'failed');
is($r->{json}{error}{code}, 'canceled', 'canceled');
like($r->{json}{error}{message}, qr/cannot cancel/, 'says Luma cannot cancel');
ok(!$lm->requests_to('DELETE', qr{.}), 'no DELETE sent to Luma');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# Luma refuses the key: 502, nothing about keys
$r = $t->post('/v1/videos', key => $key, body => { model => 'badkey', prompt => 'x' });
is($r->{status}, 502, 'Luma\'s 401 is 502');
unlike($r->{content}, qr/luma-wrong|test-provider|Bearer|Invalid API key/i,
       'the answer has no key');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');
my ($b401) = reverse creates($lm);
is($b401->{headers}{authorization}, 'Bearer luma-wrong', 'the mock saw the wrong key');

# fallback: luma answers 500, luma2 takes it with its own key and model
$lm->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'fall back' });
is($r->{status}, 200, 'fallback 200');
is($r->{json}{provider}, 'luma2', 'served by luma2');
($sent) = reverse creates($lm2);
is($sent->{headers}{authorization}, 'Bearer second-key', 'luma2\'s key');
is($sent->{json}{model}, 'ray-flash-2', 'the second target\'s model');
my @reserves = grep { /"type":"reserve"/ && /$r->{json}{id}/ } split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation for both attempts');

($b0, $r0) = $t->balance('acme');
$lm->faults(create => ['502']);
$lm2->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 502, 'all 5xx is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$lm->faults(create => ['timeout']);
my $t0 = time;
$r = $t->post('/v1/videos', key => $key, body => { model => 'ray2', prompt => 'slow' });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t0 < 5, 'ended by timeout=1500ms');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$lm->faults(create => ['malformed']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'ray2', prompt => 'x' });
is($r->{status}, 502, 'malformed JSON is 502');

$lm->faults(create => ['close']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'ray2', prompt => 'x' });
is($r->{status}, 502, 'a closed connection is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# a failed poll keeps the stored state
$r = $t->post('/v1/videos', key => $key, body => { model => 'ray2', prompt => 'poll' });
my $pid = $r->{json}{id};
$lm->faults(status => ['503']);
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a 503 poll keeps queued');
$r = $t->wait_task($pid, key => $key);
is($r->{json}{status}, 'completed', 'then it completes');

$t->audit_clean;
$t->stop;
$t->check_log;

ok(!grep({ /test-provider-key|second-key|luma-wrong/ } $t->error_log),
   'no provider key in the error log');

done_testing;
