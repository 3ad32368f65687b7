#!/usr/bin/perl

# OpenAI's official Node SDK works against the gateway by base URL alone:
# multipart create with an upload, retrieve, list, download, delete, and
# the SDK's own error objects.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Makeclip::Test qw(json_decode);

my $sdk = "$FindBin::Bin/../sdk";

plan(skip_all => 'node is not installed') unless `node --version 2>/dev/null`;
plan(skip_all => 'the openai package is not installed (cd t/sdk && npm install)')
    unless -d "$sdk/node_modules/openai";

my $t = Makeclip::Test->new;

$t->write_config(<<'END' . $t->api_server());
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider sandbox adapter=sandbox queue=100ms run=300ms
                      video=%%ROOT%%/conf/sandbox.mp4;
    makeclip_model sandbox-video price=10 seconds=4,8 to=sandbox;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('sdk', credits => 100);
my $base = 'http://127.0.0.1:' . $t->port . '/v1';

my $json = `node $sdk/videos.mjs $base $key sandbox-video 2>&1`;
is($?, 0, 'the SDK script ran') or diag($json);

my $out = json_decode($json) || {};

like($out->{created}{id}, qr/^video_/, 'videos.create returns a video');
is($out->{created}{status}, 'queued', 'queued');
is($out->{final}{status}, 'completed', 'videos.retrieve follows it to completed');
ok(grep({ $_ eq $out->{created}{id} } @{ $out->{listed} || [] }), 'videos.list has it');
is($out->{content_type}, 'video/mp4', 'downloadContent gives video/mp4');
is($out->{content_bytes}, -s "$FindBin::Bin/../../conf/sandbox.mp4", 'the whole video');
is($out->{deleted}{object}, 'video.deleted', 'videos.delete');
is($out->{missing}{status}, 404, 'an unknown video raises a 404 NotFoundError');
is($out->{missing}{code}, 'video_not_found', 'with the error code');
is($out->{unauthorized}{status}, 401, 'a bad key raises a 401');
is(scalar $t->balance('sdk'), 60, 'the price left the balance');

$t->audit_clean;
$t->stop;
$t->check_log;

done_testing;
