#!/usr/bin/perl

# The google adapter (Veo through the Gemini API) against a mock of the
# Gemini API: the exact request Google gets, the operation polled to its
# end, the video downloaded with the key, image bytes, Google's own ways
# of failing (a wrong key is a 400 there), fallback and refunds.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use MIME::Base64 qw(encode_base64);
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $veo = $t->mock('Makeclip::Mock::Google', name => 'veo',
                   key => 'AIzaTestVeoKey0001');
my $veo2 = $t->mock('Makeclip::Mock::Google', name => 'veo2',
                    key => 'AIzaTestVeoKey0002');

open my $fh, '>', $t->dir . '/veo.key' or die;
print $fh "AIzaTestVeoKey0001\n";
close $fh;

$ENV{MAKECLIP_TEST_VEO2_KEY} = 'AIzaTestVeoKey0002';
$ENV{MAKECLIP_TEST_VEO_BAD_KEY} = 'AIzaWrongKey9999';

$t->write_config(<<'END' . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider veo adapter=google
                      url=http://127.0.0.1:%%PORT_veo%%/v1beta
                      key_file=%%DIR%%/veo.key timeout=1500ms
                      person_generation=allow_adult;
    makeclip_provider veo2 adapter=google
                      url=http://127.0.0.1:%%PORT_veo2%%/v1beta
                      key_env=MAKECLIP_TEST_VEO2_KEY;
    makeclip_provider veobad adapter=google
                      url=http://127.0.0.1:%%PORT_veo%%/v1beta
                      key_env=MAKECLIP_TEST_VEO_BAD_KEY;
    makeclip_model veo-3.1 price=10 seconds=4,6,8
                   sizes=1280x720,720x1280,1920x1080
                   to=veo:veo-3.1-generate-preview;
    makeclip_model veo-any price=10 to=veo:veo-3.1-generate-preview;
    makeclip_model veo-fallback price=10 seconds=4,8
                   to=veo:veo-3.1-generate-preview,veo2:veo-3.1-fast-generate-preview;
    makeclip_model veo-badkey price=10 seconds=8
                   to=veobad:veo-3.1-generate-preview;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 2000);

# the request Google gets
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'veo-3.1', prompt => 'a red fox in snow',
                           seconds => 8, size => '1920x1080',
                           negative_prompt => 'blurry' });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'queued');
is($v->{provider}, 'veo', 'served by veo');
is($v->{credits}, 80, '8 s at 10');
is_deeply([$t->balance('acme')], [1920, 80], 'reserved');

my ($sent) = $veo->requests_to('POST', qr{:predictLongRunning$});
is($sent->{path}, '/v1beta/models/veo-3.1-generate-preview:predictLongRunning',
   'POST /v1beta/models/{model}:predictLongRunning');
is($sent->{headers}{'x-goog-api-key'}, 'AIzaTestVeoKey0001',
   'the key in x-goog-api-key');
ok(!exists $sent->{headers}{authorization}, 'no Authorization header');
is($sent->{headers}{'content-type'}, 'application/json', 'JSON');
is_deeply($sent->{json},
          { instances => [ { prompt => 'a red fox in snow' } ],
            parameters => { durationSeconds => 8, aspectRatio => '16:9',
                            resolution => '1080p', negativePrompt => 'blurry',
                            personGeneration => 'allow_adult' } },
          'field for field what the SDK sends');
like($sent->{body}, qr/"durationSeconds":8[,}]/, 'durationSeconds a number');
ok(!grep({ /mk_/ } map { values %{ $_->{headers} } } @{ $veo->requests }),
   'the client\'s key never reaches Google');

# polling the operation: running, then done with a sample
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'done absent: in_progress');
my ($poll) = $veo->requests_to('GET', qr{/operations/});
is($poll->{path}, '/v1beta/models/veo-3.1-generate-preview/operations/op000001',
   'GET /v1beta/{operation name}, the name as given');
is($poll->{headers}{'x-goog-api-key'}, 'AIzaTestVeoKey0001', 'with the key');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'done with a sample: completed');
is_deeply([$t->balance('acme')], [1920, 0], 'settled');

# the video, fetched with the key from the provider's own base URL
$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^MOCK-VEO-MP4-fop000001-/, 'Google\'s bytes');
is($r->{headers}{'content-type'}, 'video/mp4', 'video/mp4');
my ($dl) = $veo->requests_to('GET', qr{:download$});
is($dl->{path}, '/v1beta/files/fop000001:download', 'files/{name}:download');
is($dl->{query}{alt}, 'media', '?alt=media');
is($dl->{headers}{'x-goog-api-key'}, 'AIzaTestVeoKey0001',
   'downloaded with the key');

# an image goes as inline bytes
my $png = encode_base64("\x89PNG fox frame", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'the fox runs',
                        seconds => 6, size => '720x1280',
                        image_url => "data:image/png;base64,$png" });
is($r->{status}, 200, 'image create 200');
($sent) = reverse $veo->requests_to('POST', qr{:predictLongRunning$});
is_deeply($sent->{json},
          { instances => [ { prompt => 'the fox runs',
                             image => { bytesBase64Encoded => $png,
                                        mimeType => 'image/png' } } ],
            parameters => { durationSeconds => 6, aspectRatio => '9:16',
                            resolution => '720p',
                            personGeneration => 'allow_adult' } },
          'instances[0].image {bytesBase64Encoded, mimeType}, portrait');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'completed', 'the image task completes');
is_deeply([$t->balance('acme')], [1860, 0], 'and is settled');

# what the Gemini API cannot take is refused before any charge
my ($b0) = $t->balance('acme');
my $posts = () = $veo->requests_to('POST', qr{:predictLongRunning$});
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'x',
                        image_url => 'https://example.com/fox.png' });
is($r->{status}, 400, 'an image URL is a 400');
is($r->{json}{error}{code}, 'unsupported_parameter', 'unsupported_parameter');
like($r->{json}{error}{message}, qr/image URL/, 'saying what');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'x', seed => 42 });
is($r->{status}, 400, 'a seed is a 400');
like($r->{json}{error}{message}, qr/seed/, 'saying seed');
is(scalar $t->balance('acme'), $b0, 'nothing charged');
is(scalar(() = $veo->requests_to('POST', qr{:predictLongRunning$})), $posts,
   'and nothing sent');

# a duration Veo does not make: 400 with the allowed values, refunded
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-any', prompt => 'x', seconds => 5 });
is($r->{status}, 400, '5 s is a 400');
like($r->{json}{error}{message}, qr/allowed: 4, 6, 8/, 'listing 4, 6, 8');
is(scalar $t->balance('acme'), $b0, 'refunded');
is(scalar(() = $veo->requests_to('POST', qr{:predictLongRunning$})), $posts,
   'not sent to Google');

# Google rejects the input: 400 with its message, refunded
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'x', seconds => 4,
                        size => '1920x1080' });
is($r->{status}, 400, 'provider 400 is a client 400');
like($r->{json}{error}{message},
     qr/duration must be 8 seconds for 1080p/, 'with Google\'s message');
is($r->{json}{error}{code}, 'provider_rejected', 'provider_rejected');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a generation that fails, and one the safety filter stops: refunded
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'x [fail]', seconds => 8 });
is($r->{status}, 200, 'failing task accepted');
is_deeply([$t->balance('acme')], [$b0 - 80, 80], 'reserved while it runs');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'done with error: failed');
is($r->{json}{error}{code}, 'generation_failed', 'generation_failed');
like($r->{json}{error}{message}, qr/Video generation failed/,
     'Google\'s message');
is_deeply([$t->balance('acme')], [$b0, 0], 'refunded exactly');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'x [filter]',
                        seconds => 8 });
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'filtered: failed');
is($r->{json}{error}{code}, 'content_filtered', 'content_filtered');
like($r->{json}{error}{message}, qr/violate usage guidelines/,
     'with the filter\'s reason');
is_deeply([$t->balance('acme')], [$b0, 0], 'refunded exactly');

# a wrong key: Google's 400 API_KEY_INVALID is the gateway's fault, a 502
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-badkey', prompt => 'x' });
is($r->{status}, 502, 'API_KEY_INVALID is 502, not the client\'s 400');
unlike($r->{content}, qr/AIza|key not valid/i, 'nothing of the key');
is(scalar $t->balance('acme'), $b0, 'refunded');
my ($bad) = reverse $veo->requests_to('POST', qr{:predictLongRunning$});
is($bad->{headers}{'x-goog-api-key'}, 'AIzaWrongKey9999',
   'the mock did see the wrong key');

# a 401 from the provider
$veo->faults(create => ['401']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'x' });
is($r->{status}, 502, 'provider 401 is 502');
unlike($r->{content}, qr/AIza/, 'nothing of the key');
is(scalar $t->balance('acme'), $b0, 'refunded');

# fallback: the first target fails with 500, the second takes it
$veo->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-fallback', prompt => 'fall back',
                        seconds => 4 });
is($r->{status}, 200, 'fallback create 200');
is($r->{json}{provider}, 'veo2', 'served by the second target');
my ($sent2) = $veo2->requests_to('POST', qr{:predictLongRunning$});
is($sent2->{path},
   '/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning',
   'with the second target\'s model');
is($sent2->{headers}{'x-goog-api-key'}, 'AIzaTestVeoKey0002',
   'and the second provider\'s key');
my $fid = $r->{json}{id};
my @reserves = grep { /"type":"reserve"/ && /$fid/ }
               split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation across both attempts');
$r = $t->wait_task($fid, key => $key);
is($r->{json}{status}, 'completed', 'polled at the second provider');
is(scalar(() = $veo2->requests_to('GET', qr{/operations/})), 2,
   'two polls there');

# every target fails: 502, refunded
($b0) = $t->balance('acme');
$veo->faults(create => ['503']);
$veo2->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-fallback', prompt => 'x', seconds => 4 });
is($r->{status}, 502, 'all targets 5xx is 502');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a provider that never answers
$veo->faults(create => ['timeout']);
my $t0 = time;
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'slow' });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t0 < 5, 'ended by timeout=1500ms');
is(scalar $t->balance('acme'), $b0, 'refunded');

# malformed JSON from Google
$veo->faults(create => ['malformed']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'x' });
is($r->{status}, 502, 'malformed is 502');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a poll that fails keeps the stored state
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'veo-3.1', prompt => 'poll' });
my $pid = $r->{json}{id};
$veo->faults(status => ['500', 'timeout']);
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a failed poll answers the stored state');
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a timed-out poll too');
$r = $t->wait_task($pid, key => $key);
is($r->{json}{status}, 'completed', 'then it completes');

$t->audit_clean;
$t->stop;
$t->check_log;

ok(!grep({ /AIzaTestVeoKey|AIzaWrongKey/ } $t->error_log),
   'no provider key in the error log');

# nginx -t: url= must carry the API version
$t->write_config(<<'END' . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider veo adapter=google url=http://127.0.0.1:%%PORT_veo%%
                      key_file=%%DIR%%/veo.key;
END
my ($ok, $out) = $t->test_config;
ok(!$ok, 'a url= without /v1beta fails nginx -t');
like($out, qr/must include the API version.*nginx\.conf:\d+/,
     'saying so, with file and line');

done_testing;
