package Makeclip::Mock::Google;

# Veo through the Gemini API (generativelanguage.googleapis.com), as the
# REST reference and @google/genai in Gemini API mode describe it:
#
#   POST /v1beta/models/{model}:predictLongRunning   create: instances[1]
#                                  {prompt, image{bytesBase64Encoded,
#                                  mimeType}}, parameters{durationSeconds
#                                  (a JSON number: 4, 6, 8; 5-8 on Veo 2),
#                                  aspectRatio 16:9|9:16, resolution
#                                  720p|1080p|4k (8 s only above 720p; none
#                                  on Veo 2), negativePrompt,
#                                  personGeneration, sampleCount,
#                                  enhancePrompt}; anything else is an
#                                  unknown field, as protobuf JSON says
#   GET  /v1beta/{operation name}  the operation; each poll moves it on:
#                                  done absent while running, then done
#                                  with response.generateVideoResponse
#                                  .generatedSamples[0].video.uri, or
#                                  with error, or with no samples and
#                                  raiMediaFilteredCount
#   GET  /v1beta/files/{id}:download?alt=media   the MP4
#
# Auth is the x-goog-api-key header.  No key is 403 PERMISSION_DENIED; a
# wrong key is 400 INVALID_ARGUMENT with an ErrorInfo of reason
# API_KEY_INVALID and a DebugInfo that repeats the key, as Google's
# servers answer.  Errors are {"error": {code, message, status, details}}.
#
# Prompts steer the outcome: "[fail]" ends with an error, "[filter]" with
# the safety filter's count and reasons.

use strict;
use warnings;
use parent 'Makeclip::Mock';

use B;
use MIME::Base64 qw(decode_base64);

my %STATUS = (400 => 'INVALID_ARGUMENT', 401 => 'UNAUTHENTICATED',
              403 => 'PERMISSION_DENIED', 404 => 'NOT_FOUND',
              429 => 'RESOURCE_EXHAUSTED', 500 => 'INTERNAL',
              503 => 'UNAVAILABLE', 504 => 'DEADLINE_EXCEEDED');

my %PARAMS = map { $_ => 1 } qw(durationSeconds aspectRatio resolution
    negativePrompt personGeneration sampleCount enhancePrompt);

sub routes {
    return [
        ['POST', qr{^/v1beta/models/([\w.-]+):predictLongRunning$},
         \&create, 'create'],
        ['GET', qr{^/v1beta/files/(\w+):download$}, \&download, 'content'],
        ['GET', qr{^/v1beta/(models/[\w.-]+/operations/[\w-]+)$},
         \&status, 'status'],
    ];
}

sub error {
    my ($code, $message, @details) = @_;
    return [$code, {}, { error => { code => $code, message => $message,
                                    status => $STATUS{$code} // 'UNKNOWN',
                                    @details ? (details => \@details) : () } }];
}

sub fault_body {
    my ($self, $status) = @_;
    return { error => { code => $status + 0,
                        message => "mock fault $status",
                        status => $STATUS{$status} // 'UNKNOWN' } };
}

sub auth {
    my ($self, $req) = @_;
    my $key = $req->{headers}{'x-goog-api-key'};

    return error(403, "Method doesn't allow unregistered callers (callers "
                 . "without established identity). Please use API Key or "
                 . "other form of API consumer identity to call this API.")
        unless defined $key;

    return error(400, 'API key not valid. Please pass a valid API key.',
                 { '@type' => 'type.googleapis.com/google.rpc.ErrorInfo',
                   reason => 'API_KEY_INVALID', domain => 'googleapis.com',
                   metadata => { service =>
                                 'generativelanguage.googleapis.com' } },
                 { '@type' => 'type.googleapis.com/google.rpc.DebugInfo',
                   detail => "Invalid API key: $key" })
        unless $key eq $self->{key};

    return undef;
}

sub _is_number {
    my ($v) = @_;
    return 0 if !defined $v || ref $v;
    my $f = B::svref_2object(\$v)->FLAGS;
    return ($f & (B::SVp_IOK | B::SVp_NOK)) && !($f & B::SVp_POK);
}

sub _str { defined $_[0] && !ref $_[0] && !_is_number($_[0]) }

sub create {
    my ($self, $req, $model) = @_;

    if (my $e = $self->auth($req)) { return $e }

    my $b = $req->{json};
    return error(400, 'Invalid JSON payload received.')
        unless ref $b eq 'HASH';

    return error(404, "models/$model is not found for API version v1beta, "
                 . "or is not supported for predictLongRunning.")
        unless $model =~ /^veo-/;

    for my $k (keys %$b) {
        return error(400, "Invalid JSON payload received. Unknown name "
                     . "\"$k\": Cannot find field.")
            unless $k =~ /^(instances|parameters)$/;
    }

    my $inst = $b->{instances};
    return error(400, '* instances: exactly one instance is supported.')
        unless ref $inst eq 'ARRAY' && @$inst == 1 && ref $inst->[0] eq 'HASH';
    $inst = $inst->[0];

    for my $k (keys %$inst) {
        return error(400, "Invalid JSON payload received. Unknown name "
                     . "\"$k\" at 'instances[0]': Cannot find field.")
            unless $k =~ /^(prompt|image|lastFrame|referenceImages|video)$/;
    }

    return error(400, 'A text prompt is required.')
        unless _str($inst->{prompt}) && length $inst->{prompt};

    if (exists $inst->{image}) {
        my $img = $inst->{image};
        return error(400, 'image must have bytesBase64Encoded and mimeType.')
            unless ref $img eq 'HASH' && _str($img->{bytesBase64Encoded})
                   && _str($img->{mimeType});
        return error(400, 'gcsUri is not supported in the Gemini API.')
            if exists $img->{gcsUri};
        return error(400, "Invalid value at 'instances[0].image."
                     . "bytes_base64_encoded' (TYPE_BYTES), Base64 decoding "
                     . "failed")
            unless $img->{bytesBase64Encoded} =~ m{^[A-Za-z0-9+/]+={0,2}$};
        return error(400, "Unsupported MIME type: $img->{mimeType}")
            unless $img->{mimeType} =~ m{^image/(png|jpeg|webp)$};
    }

    my $p = $b->{parameters} // {};
    return error(400, 'parameters must be an object.') unless ref $p eq 'HASH';

    for my $k (keys %$p) {
        return error(400, "Invalid JSON payload received. Unknown name "
                     . "\"$k\" at 'parameters': Cannot find field.")
            unless $PARAMS{$k};
    }

    my $veo2 = $model =~ /^veo-2/;
    my $secs = $p->{durationSeconds} // 8;

    return error(400, "Invalid value at 'parameters.duration_seconds' "
                 . "(TYPE_INT32), \"$secs\"")
        if exists $p->{durationSeconds} && !_is_number($p->{durationSeconds});

    return error(400, "The number value for `durationSeconds` is out of "
                 . "bound. Please provide a value between "
                 . ($veo2 ? '5 and 8' : '4 and 8') . ", inclusive.")
        unless $veo2 ? ($secs >= 5 && $secs <= 8)
                     : ($secs == 4 || $secs == 6 || $secs == 8);

    return error(400, "`aspectRatio` isn't supported: $p->{aspectRatio}")
        if defined $p->{aspectRatio} && $p->{aspectRatio} !~ /^(16:9|9:16)$/;

    if (defined $p->{resolution}) {
        return error(400, '`resolution` isn\'t supported by this model.')
            if $veo2;
        return error(400, "`resolution` isn't supported: $p->{resolution}")
            unless $p->{resolution} =~ /^(720p|1080p|4k)$/;
        return error(400, "The duration must be 8 seconds for "
                     . "$p->{resolution} videos.")
            if $p->{resolution} ne '720p' && $secs != 8;
    }

    return error(400, "`personGeneration` isn't supported: "
                 . "$p->{personGeneration}")
        if defined $p->{personGeneration}
           && $p->{personGeneration} !~ /^(allow_all|allow_adult|dont_allow)$/;

    my $id = $self->next_id('op');
    my $name = "models/$model/operations/$id";
    my $prompt = $inst->{prompt};

    $self->{tasks}{$name} = {
        name => $name, polls => 0,
        outcome => $prompt =~ /\[fail\]/ ? 'fail'
                 : $prompt =~ /\[filter\]/ ? 'filter' : undef,
    };

    return [200, {}, { name => $name }];
}

sub status {
    my ($self, $req, $name) = @_;

    if (my $e = $self->auth($req)) { return $e }

    my $task = $self->{tasks}{$name}
        or return error(404, "Operation $name not found.");

    my $s = $task->{done} || $self->advance($task);

    if ($s eq 'running') {
        return [200, {}, { name => $name, metadata => {} }];
    }

    $task->{done} = $s;

    if ($s eq 'fail') {
        return [200, {}, { name => $name, done => JSON::PP::true,
                           error => { code => 13, message =>
                                      'Video generation failed: internal '
                                      . 'error (mock).' } }];
    }

    my $gvr;

    if ($s eq 'filter') {
        $gvr = { raiMediaFilteredCount => 1,
                 raiMediaFilteredReasons => [
                     'The prompt could not be submitted. This prompt '
                     . 'contains words that violate usage guidelines.' ] };
    } else {
        (my $fid = $name) =~ s{.*/}{f};
        $fid =~ s/\W//g;
        $task->{file} = lc $fid;
        $gvr = { generatedSamples => [ { video => { uri =>
                     $self->url . "/v1beta/files/\L$fid\E:download"
                     . "?alt=media" } } ] };
    }

    return [200, {}, { name => $name, done => JSON::PP::true,
                       response => {
                           '@type' => 'type.googleapis.com/google.ai.'
                                      . 'generativelanguage.v1beta.'
                                      . 'PredictLongRunningResponse',
                           generateVideoResponse => $gvr } }];
}

sub download {
    my ($self, $req, $fid) = @_;

    if (my $e = $self->auth($req)) { return $e }

    return error(400, 'alt=media is required to download.')
        unless ($req->{query}{alt} // '') eq 'media';

    my ($task) = grep { ($_->{file} // '') eq $fid } values %{$self->{tasks}};
    return error(404, "File $fid not found.") unless $task;

    return [200, { 'Content-Type' => 'video/mp4' },
            "MOCK-VEO-MP4-$fid-" . ('v' x 1000)];
}

1;
