#!/usr/bin/perl

# The kling adapter against a mock of Kling's two APIs: the JWT API (the
# mock checks every token's HS256 signature, iss, nbf and exp) with its
# text2video and image2video endpoints, and the API-key API with the
# model in the path; the exact requests, polling through every status
# word, Kling's envelope codes at HTTP 200 and at their own statuses,
# fallback and refunds.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use JSON::PP;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64 decode_base64);
use Makeclip::Test;

my $AK = 'AKe2eAccess01';
my $SK = 'SKe2eSecret01xyz';
my $API_KEY = 'kling-e2e-api-key-01';

my $t = Makeclip::Test->new;

my $kl = $t->mock('Makeclip::Mock::Kling', name => 'kling', steps => 3,
                  access_key => $AK, secret_key => $SK, api_key => $API_KEY);
my $kl2 = $t->mock('Makeclip::Mock::Kling', name => 'kling2',
                   access_key => 'AKsecond02', secret_key => 'SKsecond02');

open my $fh, '>', $t->dir . '/kling.ak' or die;
print $fh "$AK\n";
close $fh;

$ENV{MAKECLIP_TEST_KLING_SK} = $SK;
$ENV{MAKECLIP_TEST_KLING_API_KEY} = $API_KEY;
$ENV{MAKECLIP_TEST_KLING2_AK} = 'AKsecond02';
$ENV{MAKECLIP_TEST_KLING2_SK} = 'SKsecond02';
$ENV{MAKECLIP_TEST_KLING_BAD_SK} = 'SKwrongSecret99';

$t->write_config(<<'END' . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider kling adapter=kling url=http://127.0.0.1:%%PORT_kling%%
                      key_file=%%DIR%%/kling.ak
                      secret_env=MAKECLIP_TEST_KLING_SK timeout=1500ms;
    makeclip_provider klingkey adapter=kling api=key
                      url=http://127.0.0.1:%%PORT_kling%%
                      key_env=MAKECLIP_TEST_KLING_API_KEY;
    makeclip_provider kling2 adapter=kling url=http://127.0.0.1:%%PORT_kling2%%
                      key_env=MAKECLIP_TEST_KLING2_AK
                      secret_env=MAKECLIP_TEST_KLING2_SK;
    makeclip_provider klingbad adapter=kling url=http://127.0.0.1:%%PORT_kling%%
                      key_file=%%DIR%%/kling.ak
                      secret_env=MAKECLIP_TEST_KLING_BAD_SK;
    makeclip_model kling-v2 price=10 seconds=5,10
                   sizes=1280x720,720x1280,1920x1080
                   to=kling:kling-v2-1-master;
    makeclip_model kling-any price=10 to=kling:kling-v2-1-master;
    makeclip_model kling-26 price=10 seconds=5,10 to=klingkey:kling-2.6;
    makeclip_model kling-30 price=10 to=klingkey:kling-3.0;
    makeclip_model kling-fallback price=10 seconds=5
                   to=kling:kling-v2-1-master,kling2:kling-v2-1-master;
    makeclip_model kling-bad price=10 seconds=5 to=klingbad:kling-v2-1-master;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 5000);

sub b64url_decode {
    my ($s) = @_;
    (my $b = $s) =~ tr{-_}{+/};
    $b .= '=' x ((4 - length($b) % 4) % 4);
    return decode_base64($b);
}

sub b64url {
    my $s = encode_base64($_[0], '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

# --- the JWT API ---

my $t0 = int(time);
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'kling-v2', prompt => 'a cat surfing',
                           seconds => 5, size => '1920x1080',
                           negative_prompt => 'blurry, text' });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'queued');
is($v->{provider}, 'kling', 'served by kling');
is($v->{credits}, 50, '5 s at 10');

my ($sent) = $kl->requests_to('POST', qr{^/v1/videos/text2video$});
ok($sent, 'POST /v1/videos/text2video');
is_deeply($sent->{json},
          { model_name => 'kling-v2-1-master', prompt => 'a cat surfing',
            negative_prompt => 'blurry, text', mode => 'pro',
            aspect_ratio => '16:9', duration => '5' },
          'field for field what Kling documents');
like($sent->{body}, qr/"duration":"5"/, 'duration as a string');
is($sent->{headers}{'content-type'}, 'application/json', 'JSON');

# the token: checked here independently of the mock
my ($jwt) = ($sent->{headers}{authorization} // '') =~ /^Bearer (\S+)$/;
ok($jwt, 'Authorization: Bearer <JWT>');
my ($h, $c, $s) = split /\./, $jwt // '';
is_deeply(decode_json(b64url_decode($h)), { alg => 'HS256', typ => 'JWT' },
          'header {"alg":"HS256","typ":"JWT"}');
my $claims = decode_json(b64url_decode($c));
is($claims->{iss}, $AK, 'iss is the access key');
is($claims->{exp} - $claims->{nbf}, 1805, 'exp = now + 1800, nbf = now - 5');
ok($claims->{nbf} <= time && $claims->{nbf} >= $t0 - 10, 'nbf is now - 5');
is_deeply([sort keys %$claims], [qw(exp iss nbf)], 'no other claims');
is($s, b64url(hmac_sha256("$h.$c", $SK)), 'signed with the secret key');
unlike($jwt, qr/\Q$SK\E/, 'the secret is not in the token');

# polling: submitted, processing, succeed
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'queued', 'submitted is queued');
my ($poll) = $kl->requests_to('GET', qr{^/v1/videos/});
like($poll->{path}, qr{^/v1/videos/text2video/8672114456\d{8}$},
     'GET /v1/videos/text2video/{task_id}');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'processing is in_progress');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'succeed is completed');
is_deeply([$t->balance('acme')], [4950, 0], 'settled');

# one token for every call of this worker
my @tokens = map { $_->{token} } @{ $kl->tokens };
is(scalar @tokens, 4, 'the mock accepted four tokens');
is(scalar(grep { $_ eq $jwt } @tokens), 4, 'all the same cached token');

# the video: the URL needs no key
$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^MOCK-KLING-MP4-/, 'Kling\'s bytes');
my ($cdn) = $kl->requests_to('GET', qr{^/cdn/});
ok(!exists $cdn->{headers}{authorization}, 'no credentials to the CDN');

# image to video: bare base64, no aspect_ratio, polled under image2video
my $jpg = encode_base64("\xff\xd8\xff\xe0 kling frame", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'it waves',
                        seconds => 10, size => '1280x720',
                        image_url => "data:image/jpeg;base64,$jpg" });
is($r->{status}, 200, 'image create 200');
($sent) = $kl->requests_to('POST', qr{^/v1/videos/image2video$});
is_deeply($sent->{json},
          { model_name => 'kling-v2-1-master', image => $jpg,
            prompt => 'it waves', mode => 'std', duration => '10' },
          'image2video: base64 without the data: prefix, mode std');
my $iv = $r->{json}{id};
$r = $t->wait_task($iv, key => $key);
is($r->{json}{status}, 'completed', 'the image task completes');
ok(scalar($kl->requests_to('GET', qr{^/v1/videos/image2video/})),
   'polled under image2video');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'it waves',
                        seconds => 5,
                        image_url => 'https://example.com/cat.png' });
is($r->{status}, 200, 'image URL create 200');
($sent) = reverse $kl->requests_to('POST', qr{^/v1/videos/image2video$});
is($sent->{json}{image}, 'https://example.com/cat.png', 'a URL as is');
$t->wait_task($r->{json}{id}, key => $key);

# --- the API-key API ---

my ($b0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-26', prompt => 'a girl on a train',
                        seconds => 10, size => '1280x720' });
is($r->{status}, 200, 'api=key create 200');
($sent) = $kl->requests_to('POST', qr{^/text-to-video/});
is($sent->{path}, '/text-to-video/kling-2.6', 'the model in the path');
is($sent->{headers}{authorization}, "Bearer $API_KEY",
   'the API key as the bearer');
is_deeply($sent->{json},
          { prompt => 'a girl on a train',
            settings => { resolution => '720p', aspect_ratio => '16:9',
                          duration => 10 } },
          'prompt and settings, as Kling documents');
like($sent->{body}, qr/"duration":10[,}]/, 'duration an integer');
my $kv = $r->{json}{id};
$r = $t->get("/v1/videos/$kv", key => $key);
is($r->{json}{status}, 'queued', 'submitted');
my ($tq) = $kl->requests_to('GET', qr{^/tasks$});
like($tq->{query}{task_ids}, qr/^8672114456\d{8}$/, 'GET /tasks?task_ids=');
is($tq->{headers}{authorization}, "Bearer $API_KEY", 'with the API key');
$r = $t->get("/v1/videos/$kv", key => $key);
is($r->{json}{status}, 'in_progress', 'processing');
$r = $t->get("/v1/videos/$kv", key => $key);
is($r->{json}{status}, 'completed', 'succeeded');
is_deeply([$t->balance('acme')], [$b0 - 100, 0], 'settled');
$r = $t->get("/v1/videos/$kv/content", key => $key);
like($r->{content}, qr/^MOCK-KLING-MP4-/, 'outputs[type=video].url');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-30', prompt => 'go', seconds => 12,
                        image_url => 'https://example.com/first.png' });
is($r->{status}, 200, 'api=key image create 200');
($sent) = $kl->requests_to('POST', qr{^/image-to-video/});
is($sent->{path}, '/image-to-video/kling-3.0', 'image-to-video/{model}');
is_deeply($sent->{json},
          { contents => [ { type => 'prompt', text => 'go' },
                          { type => 'first_frame',
                            url => 'https://example.com/first.png' } ],
            settings => { resolution => '720p', duration => 12 } },
          'contents[] and settings');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'completed', 'completes');

# --- refusals and failures ---

($b0) = $t->balance('acme');
my $posts = () = $kl->requests_to('POST', qr{.});

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'x', seed => 1 });
is($r->{status}, 400, 'a seed is a 400');
is($r->{json}{error}{code}, 'unsupported_parameter', 'unsupported_parameter');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-any', prompt => 'x', seconds => 8 });
is($r->{status}, 400, '8 s is a 400');
like($r->{json}{error}{message}, qr/allowed: 5, 10/, 'listing 5, 10');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-26', prompt => 'x', seconds => 5,
                        negative_prompt => 'blur' });
is($r->{status}, 400, 'negative_prompt on the API-key API is a 400');
like($r->{json}{error}{message}, qr/negative_prompt/, 'saying so');

is(scalar $t->balance('acme'), $b0, 'nothing charged for any of them');
is(scalar(() = $kl->requests_to('POST', qr{.})), $posts, 'nothing sent');

# Kling refuses the content: 400 with its message
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'x [unsafe]',
                        seconds => 5 });
is($r->{status}, 400, 'code 1301 (HTTP 400) is a client 400');
like($r->{json}{error}{message}, qr/risk control/, 'with Kling\'s message');
is(scalar $t->balance('acme'), $b0, 'refunded');

# the same code at HTTP 200 is still a failure
$kl->faults(create => ['code200:1301']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'x', seconds => 5 });
is($r->{status}, 400, 'code 1301 at HTTP 200 is a client 400');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a task Kling fails
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'x [fail]',
                        seconds => 10 });
is_deeply([$t->balance('acme')], [$b0 - 100, 100], 'reserved');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'failed');
like($r->{json}{error}{message}, qr/risk control system/,
     'task_status_msg');
is_deeply([$t->balance('acme')], [$b0, 0], 'refunded exactly');

# concurrency full (1303 at HTTP 200): the next target takes it
$kl->faults(create => ['code200:1303']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-fallback', prompt => 'busy' });
is($r->{status}, 200, '1303 falls back');
is($r->{json}{provider}, 'kling2', 'to the second target');
my ($s2) = $kl2->requests_to('POST', qr{^/v1/videos/text2video$});
my ($jwt2) = $s2->{headers}{authorization} =~ /^Bearer (\S+)$/;
my $c2 = decode_json(b64url_decode((split /\./, $jwt2)[1]));
is($c2->{iss}, 'AKsecond02', 'with the second provider\'s own token');
my $fid = $r->{json}{id};
my @reserves = grep { /"type":"reserve"/ && /$fid/ }
               split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation across both attempts');
$t->wait_task($fid, key => $key);

# resource pack exhausted everywhere (1102, HTTP 429): 503, refunded
($b0) = $t->balance('acme');
$kl->faults(create => ['code:1102']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'x', seconds => 5 });
is($r->{status}, 503, 'code 1102 is provider trouble');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a 5xx falls back
$kl->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-fallback', prompt => 'x' });
is($r->{json}{provider}, 'kling2', '500 falls back');
$t->wait_task($r->{json}{id}, key => $key);

# a wrong secret: Kling's 401 (code 1000) is a 502, and no secret leaks
($b0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-bad', prompt => 'x' });
is($r->{status}, 502, 'a bad signature is 502');
unlike($r->{content}, qr/SKwrong|\Q$SK\E|\Q$AK\E/, 'nothing of the keys');
is(scalar $t->balance('acme'), $b0, 'refunded');

$kl->faults(create => ['401']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'x', seconds => 5 });
is($r->{status}, 502, 'provider 401 is 502');
is(scalar $t->balance('acme'), $b0, 'refunded');

# never answering
$kl->faults(create => ['timeout']);
my $t1 = time;
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'x', seconds => 5 });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t1 < 5, 'ended by timeout=1500ms');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a failed poll keeps the stored state
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'kling-v2', prompt => 'poll', seconds => 5 });
my $pid = $r->{json}{id};
$kl->faults(status => ['code200:5000', '503']);
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'code 5000 in a poll: the stored state');
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a 503 poll too');
$r = $t->wait_task($pid, key => $key);
is($r->{json}{status}, 'completed', 'then it completes');

$t->audit_clean;
$t->stop;
$t->check_log;

ok(!grep({ /\Q$SK\E|SKwrong|SKsecond|\Q$API_KEY\E|eyJhbGci/ }
         $t->error_log),
   'no secret, API key or token in the error log');

# nginx -t names what a Kling provider lacks
$t->write_config(<<'END' . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider kling adapter=kling url=http://127.0.0.1:%%PORT_kling%%
                      key_file=%%DIR%%/kling.ak;
END
my ($ok, $out) = $t->test_config;
ok(!$ok, 'the JWT API without a secret key fails nginx -t');
like($out, qr/needs secret_file= or secret_env=.*nginx\.conf:\d+/,
     'saying what is missing, with file and line');

done_testing;
