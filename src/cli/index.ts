console.log('hybrid-asr');
